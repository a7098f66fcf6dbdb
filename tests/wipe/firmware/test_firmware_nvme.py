"""nvme-cli parsing against outputs recorded in the QEMU lab (tests/data/nvme)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wipe.firmware.nvme import controller_of, offered_methods, parse_id_ctrl, parse_sanitize_log

DATA = Path(__file__).resolve().parents[2] / "data" / "nvme"


def test_qemu_controller_offers_format_only() -> None:
    facts = parse_id_ctrl((DATA / "id-ctrl.json").read_text())
    assert facts["serial"] == "LABNVME0001"
    assert (facts["sanicap"], facts["oacs"], facts["fna"]) == (0, 0x10A, 0)
    # SANICAP 0: no sanitize; OACS bit 1: format; FNA bit 2 clear: no crypto erase in format.
    assert offered_methods(facts) == ("nvme-format-ses1",)


@pytest.mark.parametrize(
    ("sanicap", "fna", "offered"),
    [
        (0x2, 0, ("nvme-sanitize-block", "nvme-format-ses1")),
        (0x7, 0x4, ("nvme-sanitize-block", "nvme-sanitize-crypto", "nvme-sanitize-overwrite",
                    "nvme-format-ses1", "nvme-format-ses2")),
        (0x60000003, 0x4, ("nvme-sanitize-block", "nvme-sanitize-crypto", "nvme-format-ses1",
                           "nvme-format-ses2")),
    ],
)  # fmt: skip
def test_sanicap_and_fna_bits(sanicap: int, fna: int, offered: tuple[str, ...]) -> None:
    data = json.loads((DATA / "id-ctrl.json").read_text())
    data.update(sanicap=sanicap, fna=fna)  # the recorded document with other capability bits
    assert offered_methods(parse_id_ctrl(json.dumps(data))) == offered


def test_sanitize_log_unsupported_on_qemu() -> None:
    # QEMU rejects Get Log Page 0x81: nvme-cli prints nothing on stdout (exit 1).
    assert (DATA / "sanitize-log.json").read_text() == ""
    assert "Invalid Field in Command" in (DATA / "sanitize-log.json.stderr").read_text()
    with pytest.raises(json.JSONDecodeError):
        parse_sanitize_log((DATA / "sanitize-log.json").read_text())


def test_controller_of_namespace() -> None:
    assert controller_of("/dev/nvme0n1") == "/dev/nvme0"
    assert controller_of("/dev/nvme12") == "/dev/nvme12"
