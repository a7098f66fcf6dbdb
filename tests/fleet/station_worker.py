"""One station of the fleet tests, as its own process: take the drives given through the
pipeline one after another, and print each outcome as one JSON line.

    python tests/fleet/station_worker.py DATA_DIR DB_URL BATCH_ID DEVICE[=ASSET_TAG]...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from asset_pipeline.errors import PipelineError
from asset_pipeline.flow import pipeline
from asset_pipeline.station.context import Station


def main(argv: list[str]) -> int:
    data_dir, db_url, batch, *drives = argv
    station = Station(data_dir=Path(data_dir), db_url=db_url)
    # One process per station, as in the fleet: the scan's worker pool would only add
    # processes on a machine where four stations already share two cores.
    options = pipeline.Options(scan_processes=False)
    failures = 0
    try:
        for given in drives:
            drive, _, asset = given.partition("=")  # DEV or DEV=ASSET-TAG
            try:
                outcome = pipeline.process(station, drive, int(batch), options=options,
                                           asset=asset or None)  # fmt: skip
                line = {"drive": drive, **vars(outcome)}
            except PipelineError as e:
                line = {"drive": drive, "error": str(e)}
            failures += line.get("state") != "certified"
            print(json.dumps(line), flush=True)
    finally:
        station.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
