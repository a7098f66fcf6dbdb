"""sg3_utils parsing against outputs recorded in the QEMU lab (tests/data/sg3_utils)."""

from __future__ import annotations

from pathlib import Path

from wipe.firmware.scsi import parse_opcodes, parse_progress, transport_error

DATA = Path(__file__).resolve().parents[2] / "data" / "sg3_utils"


def _out(name: str) -> str:
    text = (DATA / name).read_text(errors="replace")
    err = DATA / f"{name}.stderr"
    return text + (err.read_text(errors="replace") if err.exists() else "")


def test_qemu_disk_cannot_list_opcodes() -> None:
    found, listed = parse_opcodes(_out("opcodes.txt"))
    assert (found, listed) == (set(), False)


def test_sanitize_that_exited_0_on_a_transport_error_is_caught() -> None:
    assert "DID_ERROR" in transport_error(_out("sanitize-overwrite.txt"))


def test_the_engines_own_sanitize_command_exited_0_on_did_error() -> None:
    # `sg_sanitize --quick --early --overwrite --zero`, as ScsiSanitizer runs it: exit 0.
    assert transport_error(_out("sanitize-overwrite-early.txt")) == (
        "Sanitize: transport: Host_status=0x07 [DID_ERROR]"
    )


def test_sanitize_rejected_as_invalid_opcode() -> None:
    assert "Invalid opcode" in transport_error(_out("sanitize-block.txt"))


def test_format_output_has_no_error_but_proves_nothing() -> None:
    # sg_format exited 0 and QEMU changed no data: only the marker check can tell.
    assert transport_error(_out("format.txt")) == ""


def test_request_sense_progress() -> None:
    assert parse_progress("").done
