"""Customer assets around the drives: asset lists, receiving, custody, reconciliation.

The customer sends its asset list with the shipment (`importer`); assets are scanned in as
they arrive (`receiving`, `dmi` when the station runs on the asset); drives are linked to the
asset they came from (`linking`); each custody step is logged (`custody`); the batch ends
reconciled (`reconcile`) with every asset released to its destination (`release`), and the
return report (`evidence.return_report`) says so, signed.

Like the station's other rooms, the package imports nothing itself: `receive` at the goods
reception must not load the PDF renderer that reconciliation pulls in through the batch report.
"""
