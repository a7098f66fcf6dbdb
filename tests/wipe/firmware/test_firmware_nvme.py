"""nvme-cli parsing against outputs recorded in the QEMU lab (tests/data/nvme)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wipe.firmware.nvme import (
    controller_of,
    erases_all_namespaces,
    namespace_of,
    offered_methods,
    parse_id_ctrl,
    parse_list_ns,
    parse_sanitize_log,
    scope_check,
)

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


def test_namespace_count_comes_from_list_ns_not_nn() -> None:
    # id-ctrl's NN is how many namespaces the controller could hold (256 on QEMU).
    facts = parse_id_ctrl((DATA / "id-ctrl.json").read_text())
    assert facts["max_namespaces"] == 256
    assert parse_list_ns((DATA / "list-ns.json").read_text()) == (1,)
    two = parse_id_ctrl((DATA / "id-ctrl-two-ns.json").read_text())
    assert (two["serial"], two["max_namespaces"]) == ("LABNVMENS01", 256)
    assert parse_list_ns((DATA / "list-ns-two.json").read_text()) == (1, 2)
    with pytest.raises(ValueError, match="nsid_list"):
        parse_list_ns((DATA / "id-ctrl.json").read_text())


def _facts(id_ctrl: str, list_ns: str, **bits: int) -> dict:
    data = json.loads((DATA / id_ctrl).read_text())
    data.update(bits)  # the recorded document with other capability bits
    facts = parse_id_ctrl(json.dumps(data))
    facts["namespaces"] = list(parse_list_ns((DATA / list_ns).read_text()))
    return facts


def test_one_namespace_keeps_every_method() -> None:
    facts = _facts("id-ctrl.json", "list-ns.json", sanicap=0x2)
    offered = offered_methods(facts)
    assert scope_check("/dev/nvme0n1", facts, offered) == (offered, [])


def test_format_of_one_of_two_namespaces_is_not_offered() -> None:
    # QEMU: FNA 0, so Format NVM with SES erases only the namespace it is sent to.
    facts = _facts("id-ctrl-two-ns.json", "list-ns-two.json")
    offered, blocked = scope_check("/dev/nvme3n1", facts, offered_methods(facts))
    assert offered == ()
    assert blocked == [(
        "nvme-format-ses1",
        "the controller has 2 active namespaces (1, 2) and nvme-format-ses1 erases only "
        "namespace 1; the others would keep their data",
    )]  # fmt: skip


def test_controller_wide_erases_stay_offered_with_two_namespaces() -> None:
    facts = _facts("id-ctrl-two-ns.json", "list-ns-two.json", sanicap=0x2, fna=0x2)
    offered, blocked = scope_check("/dev/nvme3n2", facts, offered_methods(facts))
    assert offered == ("nvme-sanitize-block", "nvme-format-ses1")
    assert blocked == []


def test_erase_scope() -> None:
    assert erases_all_namespaces("nvme-sanitize-crypto", 0)
    assert not erases_all_namespaces("nvme-format-ses1", 0)
    assert erases_all_namespaces("nvme-format-ses1", 0x1)  # FNA bit 0: format applies to all
    assert erases_all_namespaces("nvme-format-ses2", 0x2)  # FNA bit 1: secure erase to all
    assert (namespace_of("/dev/nvme3n2"), namespace_of("/dev/nvme3")) == (2, None)
