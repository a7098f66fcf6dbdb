"""The lab harness itself, without booting: initramfs contents and cache, QEMU command line."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pytest
from labkit import Disk, claims, command_line, skip_reason
from labkit.initramfs import build_initramfs, find_kernel

from wipe.firmware.ata import offered_methods, parse_identify
from wipe.firmware.scsi import parse_opcodes

SKIP = skip_reason()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=SKIP or "")


def test_initramfs_holds_init_busybox_and_the_9p_modules(tmp_path: Path) -> None:
    _kernel, version = find_kernel()  # type: ignore[misc]
    image = build_initramfs(tmp_path, version)
    listing = subprocess.run(
        ["cpio", "-t", "--quiet"],
        input=gzip.decompress(image.read_bytes()),
        capture_output=True,
        check=True,
    ).stdout.decode()
    names = set(listing.split())
    assert {"init", "bin/busybox", "bin/sh", "bin/chroot", "modules.order"} <= names
    assert {"lib/modules/9p.ko", "lib/modules/9pnet_virtio.ko", "lib/modules/virtio_pci.ko"} <= (
        names
    )


def test_initramfs_is_reused_while_its_inputs_are_unchanged(tmp_path: Path) -> None:
    _kernel, version = find_kernel()  # type: ignore[misc]
    first = build_initramfs(tmp_path, version)
    stamp = first.stat().st_mtime_ns
    assert build_initramfs(tmp_path, version) == first
    assert first.stat().st_mtime_ns == stamp


def test_command_line_uses_tcg_and_blkdebug_for_a_faulty_disk(tmp_path: Path) -> None:
    disk = Disk("n1", "nvme", tmp_path / "n1.img", "SER1", write_error_sector=8)
    argv = command_line(
        kernel=tmp_path / "vmlinuz",
        initrd=tmp_path / "initrd",
        serial_socket=tmp_path / "s.sock",
        qmp_socket=tmp_path / "q.sock",
        scratch=tmp_path,
        project=None,
        disks=[disk],
    )
    assert argv[argv.index("-accel") + 1] == "tcg"  # KVM hangs the stock kernel on this host
    assert argv[argv.index("-cpu") + 1] == "max"  # SSSE3 and up, as a station CPU has
    blockdev = json.loads(argv[argv.index("-blockdev") + 1])
    assert blockdev["file"]["driver"] == "blkdebug"
    assert blockdev["file"]["inject-error"][0]["sector"] == 8
    assert argv[argv.index("-device", argv.index("-blockdev")) + 1] == (
        "nvme,id=n1,drive=n1-node,serial=SER1"
    )


def test_command_line_of_an_nvme_drive_with_two_namespaces(tmp_path: Path) -> None:
    disk = Disk("ns", "nvme", tmp_path / "a.img", "SER2", more_namespaces=(tmp_path / "b.img",))
    argv = command_line(
        kernel=tmp_path / "vmlinuz",
        initrd=tmp_path / "initrd",
        serial_socket=tmp_path / "s.sock",
        qmp_socket=tmp_path / "q.sock",
        scratch=tmp_path,
        project=None,
        disks=[disk],
    )
    nodes = [json.loads(argv[i + 1]) for i, a in enumerate(argv) if a == "-blockdev"]
    assert [(n["node-name"], n["file"]["filename"]) for n in nodes] == [
        ("ns-node", str(tmp_path / "a.img")),
        ("ns-ns2-node", str(tmp_path / "b.img")),
    ]
    devices = [argv[i + 1] for i, a in enumerate(argv) if a == "-device"]
    assert devices[-3:] == [
        "nvme,id=ns,serial=SER2",  # the controller holds no drive of its own
        "nvme-ns,bus=ns,drive=ns-node,nsid=1",
        "nvme-ns,bus=ns,drive=ns-ns2-node,nsid=2",
    ]


def test_claim_wrappers_claim_what_the_engine_reads(tmp_path: Path) -> None:
    claims.install(tmp_path, str(tmp_path))
    ident = parse_identify((tmp_path / "ata-security.txt").read_text())
    assert (ident.security_supported, ident.security_enabled, ident.frozen) == (True, False, False)
    assert offered_methods(ident)[0] == ("ata-secure-erase-enhanced", "ata-secure-erase")
    listing = subprocess.run(
        [str(tmp_path / "sg_opcodes"), "/dev/null"], capture_output=True, text=True, check=True
    ).stdout
    assert parse_opcodes(listing) == ({"scsi-format-unit", "scsi-sanitize-overwrite"}, True)
