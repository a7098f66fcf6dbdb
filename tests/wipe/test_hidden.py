"""HPA/DCO parsing against recorded hdparm output, and the after-wipe verdict."""

from __future__ import annotations

from pathlib import Path

from wipe import HiddenAreas
from wipe.hidden import after_wipe, parse_dco_max, parse_native_max

DATA = Path(__file__).resolve().parents[1] / "data" / "hdparm"


def test_hpa_disabled_on_the_lab_sata_disk() -> None:
    assert parse_native_max((DATA / "hpa.txt").read_text()) == (81920, 81920)


def test_dco_identify_without_a_real_dco() -> None:
    # QEMU answers DCO IDENTIFY with garbage ("Real max sectors: 1"); detect() ignores a DCO
    # max below the visible size.
    assert parse_dco_max((DATA / "dco-identify.txt").read_text()) == 1


def test_hidden_area_verdict_after_the_wipe() -> None:
    present = HiddenAreas("/dev/sdx", "present", current_max=1000, native_max=1200)
    assert present.hidden_sectors == 200
    assert after_wipe(present, 1000 * 512).status == "could-not-be-removed"
    removed = HiddenAreas("/dev/sdx", "removed", current_max=1200, native_max=1200)
    assert after_wipe(removed, 1200 * 512).status == "erased"
    assert after_wipe(HiddenAreas("/dev/sdx", "none", 10, 10), 0).status == "none"
