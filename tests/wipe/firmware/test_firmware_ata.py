"""hdparm parsing: the QEMU lab's SATA disk and hdparm renderings of security/sanitize words."""

from __future__ import annotations

from pathlib import Path

import pytest

from wipe.firmware.ata import drive_refusal, offered_methods, parse_identify, parse_sanitize_status

DATA = Path(__file__).resolve().parents[2] / "data" / "hdparm"
ISTDIN = DATA / "istdin"


def test_qemu_sata_disk_has_no_security_or_sanitize() -> None:
    ident = parse_identify((DATA / "identify.txt").read_text())
    assert ident.serial == "LABSATA0001"
    assert not ident.security_supported
    assert not ident.sanitize
    assert offered_methods(ident) == ((), ())


def test_frozen_security_is_blocked_with_the_remedy() -> None:
    ident = parse_identify((ISTDIN / "hdd-security-frozen.txt").read_text())
    assert ident.security_supported
    assert ident.frozen
    assert ident.enhanced_erase
    assert ident.erase_minutes == 162
    offered, blocked = offered_methods(ident)
    assert offered == ()
    assert [m for m, _ in blocked] == ["ata-secure-erase-enhanced", "ata-secure-erase"]
    assert all("suspend" in why for _, why in blocked)


def test_hdd_with_sanitize_overwrite_and_security() -> None:
    ident = parse_identify((ISTDIN / "hdd-security-sanitize-overwrite.txt").read_text())
    assert (ident.sanitize, ident.overwrite, ident.block_erase) == (True, True, False)
    assert not ident.frozen
    offered, blocked = offered_methods(ident)
    assert offered == ("ata-sanitize-overwrite", "ata-secure-erase-enhanced", "ata-secure-erase")
    assert blocked == ()


def test_ssd_with_block_erase_and_crypto_scramble() -> None:
    ident = parse_identify((ISTDIN / "ssd-sanitize-block-crypto.txt").read_text())
    offered, _ = offered_methods(ident)
    assert offered[:2] == ("ata-sanitize-block", "ata-sanitize-crypto")
    assert ident.model == "LAB SATA SSD 500GB"


def test_locked_drive_is_not_offered_a_security_erase() -> None:
    ident = parse_identify((ISTDIN / "ssd-security-enabled-locked.txt").read_text())
    assert ident.security_enabled
    assert ident.locked
    offered, blocked = offered_methods(ident)
    assert offered == ()
    assert "password is already set" in blocked[0][1]


def test_sanitize_status_when_unsupported() -> None:
    text = (DATA / "sanitize-status.txt").read_text()
    text += (DATA / "sanitize-status.txt.stderr").read_text()  # exit 22
    assert "SANITIZE feature set is not supported" in text
    status = parse_sanitize_status(text)
    assert not status.done  # no SD state at all: nothing is reported as finished
    assert status.fraction is None


def test_recorded_lying_set_password_left_identify_without_security() -> None:
    # The recorded data the sanitizer's re-read relies on: hdparm exited 0 for SECURITY SET
    # PASSWORD although the drive aborted it (sense 0b/00), and `hdparm -I` still shows no
    # enabled security. The sanitizer's own re-read runs in tests/lab/test_lab_lying_firmware.py.
    assert "bad/missing sense data" in (DATA / "security-set-pass.txt.stderr").read_text()
    assert not parse_identify((DATA / "identify.txt").read_text()).security_enabled


@pytest.mark.parametrize("name", ["security-set-pass.txt", "security-erase.txt"])
def test_aborted_security_command_is_read_from_the_sense_dump(name: str) -> None:
    # hdparm exited 0 (tests/data/recorded.json); the drive answered ABORTED COMMAND.
    text = (DATA / name).read_text() + (DATA / f"{name}.stderr").read_text()
    assert drive_refusal(text) == "the drive answered ABORTED COMMAND (sense key 0xb)"


@pytest.mark.parametrize(
    ("sense", "verdict"),
    [
        ("72 0b 00 00 00 00 00 0e", "the drive answered ABORTED COMMAND (sense key 0xb)"),
        ("70 00 05 00 00 00 00 0a", "the drive answered ILLEGAL REQUEST (sense key 0x5)"),
        ("72 01 00 1d 00 00 00 0e", ""),  # RECOVERED ERROR: ATA pass-through status, success
        ("70 00 00 00 00 00 00 0a", ""),
        ("7f", ""),
    ],
)
def test_sense_formats(sense: str, verdict: str) -> None:
    assert drive_refusal(f"SG_IO: bad/missing sense data, sb[]:  {sense}\n") == verdict


def test_no_sense_dump_no_refusal() -> None:
    assert drive_refusal((DATA / "hpa.txt").read_text()) == ""
