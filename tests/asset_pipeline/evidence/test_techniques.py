"""Every wipe method has its IEEE 2883-2022 name on the certificate."""

from __future__ import annotations

import pytest

from asset_pipeline.evidence.techniques import TECHNIQUES, describe
from wipe import OVERWRITES, all_methods

OVER = "Overwrite"


def test_every_wipe_method_is_named() -> None:
    offered = {*OVERWRITES, *(m.name for m in all_methods()), "destroy"}
    assert set(TECHNIQUES) == offered


@pytest.mark.parametrize(
    ("plan", "transport", "expected"),
    [
        ({"method": "overwrite-random", "category": "clear"}, "sata", ("Clear", "ATA", OVER)),
        ({"method": "overwrite-zeros", "category": "clear"}, "nvme", ("Clear", "NVMe", OVER)),
        ({"method": "overwrite-random", "category": "clear"}, "usb", ("Clear", "SCSI", OVER)),
        ({"method": "nvme-sanitize-block", "category": "purge"}, "nvme",
         ("Purge", "NVMe", "Sanitize block erase")),
        ({"method": "ata-sanitize-crypto", "category": "purge"}, "sata",
         ("Purge", "ATA", "Sanitize crypto erase")),
        ({"method": "scsi-sanitize-overwrite", "category": "purge"}, "sas",
         ("Purge", "SCSI", "Sanitize overwrite")),
        ({"method": "scsi-format-unit", "category": "clear"}, "sas",
         ("Clear", "SCSI", "Format unit")),
        ({"method": "destroy", "category": "destroy"}, "sata", ("Destruct", "ATA", "Destruct")),
    ],
)  # fmt: skip
def test_describe(plan: dict, transport: str, expected: tuple[str, str, str]) -> None:
    found = describe(plan, transport)
    assert (found["method"], found["interface"], found["technique"]) == expected
    assert found["tool_method"] == plan["method"]
