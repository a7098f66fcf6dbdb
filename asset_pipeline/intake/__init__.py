"""Customer assets around the drives: asset lists, receiving, custody, reconciliation.

The customer sends its asset list with the shipment (`importer`); assets are scanned in as
they arrive (`receiving`); drives are linked to the asset they came from (`linking`); each
custody step is logged (`custody`); the batch ends reconciled (`reconcile`) with every asset
released to its destination (`release`), and the return report says so, signed.
"""

from asset_pipeline.intake.custody import DESTINATIONS, STEPS, record
from asset_pipeline.intake.dmi import MachineIdentity, read_identity
from asset_pipeline.intake.importer import ImportResult, import_manifest
from asset_pipeline.intake.linking import asset_for, drive_processed, link
from asset_pipeline.intake.receiving import CONDITIONS, Receipt, receive, receive_machine
from asset_pipeline.intake.reconcile import (
    AssetStatus,
    DriveStatus,
    Reconciliation,
    close,
    reconcile,
)
from asset_pipeline.intake.release import release

__all__ = [
    "CONDITIONS",
    "DESTINATIONS",
    "STEPS",
    "AssetStatus",
    "DriveStatus",
    "ImportResult",
    "MachineIdentity",
    "Receipt",
    "Reconciliation",
    "asset_for",
    "close",
    "drive_processed",
    "import_manifest",
    "link",
    "read_identity",
    "receive",
    "receive_machine",
    "reconcile",
    "record",
    "release",
]
