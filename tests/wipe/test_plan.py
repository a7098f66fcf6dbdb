"""Method choice by level, media and capabilities."""

from __future__ import annotations

import pytest

from wipe import Capabilities, DriveFailing, Health, InsufficientMethod, MethodNotSupported, choose
from wipe.errors import DriveFrozen
from wipe.plan import FLASH, MEDIA, OVERWRITES, reaches


def caps(family: str, *offered: str, blocked=(), frozen=False) -> Capabilities:
    return Capabilities("/dev/x", family, offered, tuple(blocked), frozen, {})


NVME = caps("nvme", "nvme-sanitize-block", "nvme-sanitize-crypto", "nvme-format-ses1")
QEMU_NVME = caps("nvme", "nvme-format-ses1")
SATA_SSD = caps("ata", "ata-sanitize-block", "ata-sanitize-crypto", "ata-secure-erase")
HDD = caps("ata", "ata-sanitize-overwrite", "ata-secure-erase-enhanced", "ata-secure-erase")
FROZEN = caps("ata", blocked=[("ata-secure-erase", "frozen")], frozen=True)


@pytest.mark.parametrize(
    ("level", "media", "capabilities", "method", "category"),
    [
        ("purge", "nvme", NVME, "nvme-sanitize-block", "purge"),
        ("purge", "nvme", QEMU_NVME, "nvme-format-ses1", "purge"),
        ("clear", "nvme", NVME, "nvme-sanitize-block", "purge"),  # flash: firmware first
        ("purge", "ssd", SATA_SSD, "ata-sanitize-block", "purge"),
        ("purge", "hdd", HDD, "ata-sanitize-overwrite", "purge"),
        ("clear", "hdd", HDD, "overwrite-random", "clear"),  # HDD Clear: verifiable overwrite
        ("clear", "usb", None, "overwrite-random", "clear"),
        ("clear", "image", None, "overwrite-random", "clear"),
        ("purge", "usb", None, "destroy", "destroy"),
        ("purge", "emmc", None, "destroy", "destroy"),
        ("purge", "image", None, "destroy", "destroy"),
        ("purge", "virtual", None, "destroy", "destroy"),
        ("purge", "ssd", caps("ata", "ata-secure-erase"), "destroy", "destroy"),
        ("purge", "hdd", FROZEN, "destroy", "destroy"),
    ],
)
def test_strongest_suitable_method(level, media, capabilities, method, category) -> None:
    plan = choose(level, media, capabilities)
    assert (plan.method, plan.category) == (method, category)
    assert plan.reason


@pytest.mark.parametrize("media", MEDIA)
@pytest.mark.parametrize("method", list(OVERWRITES))
def test_an_overwrite_is_never_purge(media: str, method: str) -> None:
    assert reaches(method, media) == "clear"
    with pytest.raises(InsufficientMethod, match=f"{method} reaches only clear on {media}"):
        choose("purge", media, None, method)


@pytest.mark.parametrize("media", FLASH)
def test_purge_is_never_planned_as_an_overwrite_on_flash(media: str) -> None:
    for capabilities in (None, NVME, SATA_SSD, caps("ata")):
        assert choose("purge", media, capabilities).method not in OVERWRITES


def test_frozen_drive_plan_gives_the_remedy() -> None:
    plan = choose("purge", "hdd", FROZEN)
    assert "frozen" in plan.reason
    assert "suspend" in plan.reason


def test_requested_firmware_method_must_be_offered() -> None:
    with pytest.raises(MethodNotSupported, match="nvme-sanitize-crypto is not possible"):
        choose("purge", "nvme", QEMU_NVME, "nvme-sanitize-crypto")
    with pytest.raises(DriveFrozen, match="frozen"):
        choose("clear", "hdd", FROZEN, "ata-secure-erase")
    plan = choose("clear", "nvme", QEMU_NVME, "nvme-format-ses1")
    assert plan.reason == "requested by the operator"
    assert plan.expected == "any"


def test_secure_erase_on_flash_only_reaches_clear() -> None:
    assert reaches("ata-secure-erase", "ssd") == "clear"
    with pytest.raises(InsufficientMethod):
        choose("purge", "ssd", SATA_SSD, "ata-secure-erase")


def test_overwrite_plan_passes_and_expectation() -> None:
    plan = choose("clear", "hdd", None, "overwrite-random-zero")
    assert plan.passes == ("random", "zeros")
    assert plan.expected == "zeros"
    assert plan.to_dict()["level"] == "clear"


@pytest.mark.parametrize(("level", "media"), [("wipe", "hdd"), ("clear", "floppy")])
def test_bad_level_or_media(level: str, media: str) -> None:
    with pytest.raises(ValueError, match="level|media"):
        choose(level, media)


FAILING = Health(
    "/dev/nvme2n1",
    "failed",
    "smartctl -H -A",
    ("NVMe critical warning 0x04: NVM subsystem reliability degraded",),
)


@pytest.mark.parametrize("level", ["clear", "purge"])
def test_failing_drive_is_destroyed_at_either_level(level: str) -> None:
    plan = choose(level, "nvme", QEMU_NVME, health=FAILING)
    assert (plan.method, plan.category) == ("destroy", "destroy")
    assert "reliability degraded" in plan.reason
    assert "no certificate" in plan.reason
    assert plan.passes == ()


@pytest.mark.parametrize("method", ["overwrite-zeros", "nvme-format-ses1"])
def test_forcing_a_wipe_of_a_failing_drive_is_refused(method: str) -> None:
    with pytest.raises(DriveFailing, match="reliability degraded"):
        choose("clear", "nvme", QEMU_NVME, method, FAILING)


def test_destroy_may_be_requested_for_a_failing_drive() -> None:
    assert choose("purge", "nvme", QEMU_NVME, "destroy", FAILING).method == "destroy"


@pytest.mark.parametrize("status", ["passed", "unknown"])
def test_healthy_or_unknown_drive_plans_as_usual(status: str) -> None:
    health = Health("/dev/nvme0n1", status, "smartctl -H -A")
    assert choose("purge", "nvme", QEMU_NVME, health=health).method == "nvme-format-ses1"


def test_scsi_format_unit_is_never_purge() -> None:
    # QEMU's scsi-hd: FORMAT UNIT is offered (mandatory in SBC), SANITIZE cannot be listed.
    scsi = caps(
        "scsi", "scsi-format-unit",
        blocked=[("scsi-sanitize-overwrite", "the drive cannot list its opcodes")],
    )  # fmt: skip
    for media in ("hdd", "ssd", "unknown"):
        assert reaches("scsi-format-unit", media) == "clear"
        plan = choose("purge", media, scsi)
        assert plan.method == "destroy"
        assert "offered: scsi-format-unit" in plan.reason
        assert "scsi-sanitize-overwrite blocked: the drive cannot list its opcodes" in plan.reason
        with pytest.raises(InsufficientMethod):
            choose("purge", media, scsi, "scsi-format-unit")
