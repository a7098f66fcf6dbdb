"""Re-record the real outputs of nvme-cli, hdparm, sg3_utils, smartctl and udev into tests/data.

Boots one lab guest (the standard bay of tests/lab/labkit/layout.py), runs every command below
against the emulated drives, and writes stdout to tests/data/<tool>/<file>, stderr next to it as
<file>.stderr (when there is any), an index `tests/data/recorded.json` and the README there.
Destructive commands (sanitize, format, security erase) run last, on the session's own images.

    .venv/bin/python tests/lab/record_outputs.py            # takes about a minute
    .venv/bin/python tests/lab/record_outputs.py --only smartctl/health- nvme/list-ns
                                        # only the files starting so; the index keeps the rest
    .venv/bin/python tests/lab/record_outputs.py --readme   # README.md from recorded.json
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from labkit import BAY, start_lab  # noqa: E402
from labkit.layout import PATTERN, MiB  # noqa: E402
from labkit.machine import Disk  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"

# (file under tests/data, disk id or "", command; {dev} = namespace/disk node, {ctrl} = NVMe
# controller node). Order matters: reads first, then the commands that change a drive.
RECORDINGS: tuple[tuple[str, str, str], ...] = (
    ("nvme/list.json", "", "nvme list -o json"),
    ("nvme/id-ctrl.json", "nvme0", "nvme id-ctrl -o json {ctrl}"),
    ("nvme/id-ctrl-human.txt", "nvme0", "nvme id-ctrl -H {ctrl}"),
    ("nvme/id-ns.json", "nvme0", "nvme id-ns -o json {dev}"),
    ("nvme/smart-log.json", "nvme0", "nvme smart-log -o json {ctrl}"),
    ("nvme/smart-log-critical-warning.json", "nvme2", "nvme smart-log -o json {ctrl}"),
    ("nvme/sanitize-log.json", "nvme0", "nvme sanitize-log -o json {ctrl}"),
    ("nvme/error-log.json", "nvme0", "nvme error-log -o json {ctrl}"),
    ("nvme/list-ns.json", "nvme0", "nvme list-ns -o json {ctrl}"),
    ("nvme/list-ns-two.json", "nvmens", "nvme list-ns -o json {ctrl}"),
    ("nvme/id-ctrl-two-ns.json", "nvmens", "nvme id-ctrl -o json {ctrl}"),
    ("hdparm/identify.txt", "sata0", "hdparm -I {dev}"),
    ("hdparm/hpa.txt", "sata0", "hdparm -N {dev}"),
    ("hdparm/dco-identify.txt", "sata0", "hdparm --dco-identify {dev}"),
    ("hdparm/sanitize-status.txt", "sata0", "hdparm --sanitize-status {dev}"),
    ("sg3_utils/inq-scsi.txt", "scsi0", "sg_inq {dev}"),
    ("sg3_utils/inq-usb.txt", "usb0", "sg_inq {dev}"),
    ("sg3_utils/inq-sata.txt", "sata0", "sg_inq {dev}"),
    ("sg3_utils/vpd-supported.txt", "scsi0", "sg_vpd {dev}"),
    ("sg3_utils/vpd-sn.txt", "scsi0", "sg_vpd -p sn {dev}"),
    ("sg3_utils/vpd-di.txt", "scsi0", "sg_vpd -p di {dev}"),
    ("sg3_utils/vpd-bl.txt", "scsi0", "sg_vpd -p bl {dev}"),
    ("sg3_utils/vpd-lbpv.txt", "scsi0", "sg_vpd -p lbpv {dev}"),
    ("sg3_utils/vpd-supported-usb.txt", "usb0", "sg_vpd {dev}"),
    ("sg3_utils/readcap.txt", "scsi0", "sg_readcap -l {dev}"),
    ("sg3_utils/readcap-usb.txt", "usb0", "sg_readcap -l {dev}"),
    ("sg3_utils/opcodes.txt", "scsi0", "sg_opcodes {dev}"),
    ("smartctl/nvme.json", "nvme0", "smartctl -j -a {ctrl}"),
    ("smartctl/nvme-critical-warning.json", "nvme2", "smartctl -j -a {ctrl}"),
    ("smartctl/sata.json", "sata0", "smartctl -j -a {dev}"),
    ("smartctl/scsi.json", "scsi0", "smartctl -j -a {dev}"),
    ("smartctl/usb.json", "usb0", "smartctl -j -a {dev}"),
    ("smartctl/usb-sat.json", "usb0", "smartctl -j -a -d sat {dev}"),
    # What wipe.health runs: the namespace / disk node the wipe targets.
    ("smartctl/health-nvme.json", "nvme0", "smartctl -j -H -A {dev}"),
    ("smartctl/health-nvme-failing.json", "nvme2", "smartctl -j -H -A {dev}"),
    ("smartctl/health-sata.json", "sata0", "smartctl -j -H -A {dev}"),
    ("smartctl/health-scsi.json", "scsi0", "smartctl -j -H -A {dev}"),
    ("smartctl/health-usb.json", "usb0", "smartctl -j -H -A {dev}"),
    ("smartctl/health-usb-sat.json", "usb0", "smartctl -j -H -A -d sat {dev}"),
    ("nvme/smart-log-failing-ns.json", "nvme2", "nvme smart-log -o json {dev}"),
    ("lsblk/lsblk.json", "", "lsblk -J -b -o NAME,TYPE,TRAN,MODEL,SERIAL,SIZE,HCTL,ROTA,RM,WWN"),
    *((f"udev/{disk_id}.txt", disk_id, "udevadm info -q property -n {dev}") for disk_id, *_ in BAY),
    # Commands that change (or try to change) a drive.
    ("nvme/sanitize-block-erase.txt", "nvme0", "nvme sanitize -a 2 {ctrl}"),
    ("nvme/format-ses1.txt", "nvme0", "nvme format {dev} --ses=1 --force"),
    ("nvme/format-ses2.txt", "nvme0", "nvme format {dev} --ses=2 --force"),
    (
        "hdparm/security-set-pass.txt",
        "sata0",
        "hdparm --user-master u --security-set-pass p {dev}",
    ),
    ("hdparm/security-erase.txt", "sata0", "hdparm --user-master u --security-erase p {dev}"),
    (
        "hdparm/sanitize-block-erase.txt",
        "sata0",
        "hdparm --yes-i-know-what-i-am-doing --sanitize-block-erase {dev}",
    ),
    ("sg3_utils/sanitize-block.txt", "scsi0", "sg_sanitize --quick --block --wait {dev}"),
    (
        "sg3_utils/sanitize-overwrite.txt",
        "scsi0",
        "sg_sanitize --quick --overwrite --zero --wait {dev}",
    ),
    ("sg3_utils/sanitize-block-usb.txt", "usb0", "sg_sanitize --quick --block --wait {dev}"),
    (
        "sg3_utils/sanitize-overwrite-early.txt",
        "scsi0",
        "sg_sanitize --quick --early --overwrite --zero {dev}",
    ),
    ("sg3_utils/format.txt", "scsi0", "sg_format --format --quick --wait {dev}"),
    ("sg3_utils/format-usb.txt", "usb0", "sg_format --format --quick --wait {dev}"),
)
VERSIONS = (
    "uname -r",
    "nvme version",
    "hdparm -V",
    "sg_inq -V",
    "smartctl -V | head -1",
    "udevadm --version",
)


def qemu_device(disk: Disk) -> str:
    """The disk's -device options as the README shows them."""
    shown = []
    for props in disk.devices():
        driver = props.pop("driver")
        props.pop("drive", None)
        shown.append(",".join([driver, *(f"{k}={v}" for k, v in props.items())]))
    return " ".join(shown)


def two_namespace_disk(directory: Path) -> Disk:
    """An NVMe controller with two active namespaces (QEMU nvme + two nvme-ns devices)."""
    images = []
    for nsid in (1, 2):
        image = directory / f"nvmens-{nsid}.img"
        with image.open("wb") as f:
            f.truncate(12 * MiB)
            f.write(PATTERN * (MiB // len(PATTERN)))
        images.append(image)
    return Disk("nvmens", "nvme", images[0], "LABNVMENS01", more_namespaces=(images[1],))


def record(out_dir: Path = DATA, only: tuple[str, ...] = ()) -> list[dict[str, object]]:
    """Boot a guest, run RECORDINGS (those whose file starts with one of `only`, when given),
    write the files, the index (other files' rows kept) and the README."""
    work = Path(tempfile.mkdtemp(prefix="lab-record-"))
    (work / "extra").mkdir()
    lab = start_lab(work, project=ROOT, extra_disks=(two_namespace_disk(work / "extra"),))
    rows: list[dict[str, object]] = []
    try:
        guest = lab.guest
        versions = {c: " / ".join(guest.run(c).output.split("\n")).strip(" /") for c in VERSIONS}
        qemu = subprocess.run(
            ["qemu-system-x86_64", "--version"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]
        versions["qemu-system-x86_64 --version"] = qemu
        rec = lab.scratch / "rec"
        rec.mkdir()
        for index, (name, disk_id, template) in enumerate(RECORDINGS):
            if only and not name.startswith(only):
                continue
            dev = lab.dev.get(disk_id, "")
            ctrl = re.sub(r"n\d+$", "", dev) if dev.startswith("/dev/nvme") else dev
            cmd = template.format(dev=dev, ctrl=ctrl)
            out, err = f"/tmp/lab/rec/{index}.out", f"/tmp/lab/rec/{index}.err"
            result = guest.run(f"{cmd} >{out} 2>{err}", timeout=300)
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(rec / f"{index}.out", target)
            stderr = (rec / f"{index}.err").read_bytes()
            stderr_name = None
            if stderr:
                stderr_name = f"{name}.stderr"
                (out_dir / stderr_name).write_bytes(stderr)
            else:
                (out_dir / f"{name}.stderr").unlink(missing_ok=True)
            disk = guest.disks.get(disk_id)
            rows.append(
                {
                    "file": name,
                    "stderr_file": stderr_name,
                    "command": cmd,
                    "exit_code": result.rc,
                    "disk": disk_id or None,
                    "qemu_device": qemu_device(disk) if disk else None,
                }
            )
            print(f"{result.rc:>3}  {result.seconds:5.1f}s  {cmd}", file=sys.stderr)
    finally:
        lab.guest.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    if only:  # keep the other files' rows, in RECORDINGS order
        fresh = {row["file"]: row for row in rows}
        kept = json.loads((out_dir / "recorded.json").read_text())["files"]
        merged = {row["file"]: row for row in kept} | fresh
        order = [name for name, _, _ in RECORDINGS]
        rows = sorted(merged.values(), key=lambda r: order.index(r["file"]))
    index_doc = {"recorded": time.strftime("%Y-%m-%d"), "versions": versions, "files": rows}
    (out_dir / "recorded.json").write_text(json.dumps(index_doc, indent=2) + "\n")
    (out_dir / "README.md").write_text(readme(index_doc))
    return rows


def readme(doc: dict[str, object]) -> str:
    """The README of tests/data: one row per file with command, QEMU device and exit code."""
    lines = [
        "# Recorded tool outputs (QEMU lab)",
        "",
        "Real outputs of nvme-cli, hdparm, sg3_utils, smartctl, lsblk and udev, captured in the",
        "lab guest (Debian kernel drivers: nvme, ahci/libata, virtio-scsi, usb-storage) against",
        "QEMU's emulated drives, for the parser unit tests. Re-record with",
        "`.venv/bin/python tests/lab/record_outputs.py` (boots one guest, about a minute).",
        "`recorded.json` holds the same table for tests (command, exit code, stderr file).",
        "",
        "stdout is in the file itself; stderr, when there was any, in `<file>.stderr`. Exit codes",
        "are the tool's own. Note the ones that lie: `hdparm --security-*` exits 0 although the",
        "drive aborted the command, `sg_format` exits 0 on QEMU's scsi-hd without changing any",
        "data, `sg_sanitize --overwrite` exits 0 on a transport error (virtio-scsi).",
        "",
        "`nvme2` is configured as a failing drive (`smart_critical_warning=4`: reliability",
        "degraded), so its SMART health reads FAILED (`smartctl/health-nvme-failing.json`, exit",
        "status 8). `nvmens` is an NVMe controller with two active namespaces (nvme + two",
        "nvme-ns devices), present only in the recording session: `nvme list-ns` shows both, while",
        "id-ctrl's `nn` (256) is only how many namespaces the controller could have.",
        "`--only PREFIX ...` re-records some files and keeps the other rows of the index.",
        "",
        "Versions:",
        "",
        *(f"- `{k}`: {v}" for k, v in doc["versions"].items()),  # type: ignore[union-attr]
        "",
        "QEMU devices (every guest also has `-device ahci,id=ahci -device qemu-xhci,id=xhci",
        "-device virtio-scsi-pci,id=vs`; each drive is a raw image file):",
        "",
        "| file | command (in the guest) | QEMU device | exit code |",
        "|---|---|---|---|",
    ]
    for row in doc["files"]:  # type: ignore[union-attr]
        name = row["file"]
        if row["stderr_file"]:
            name += " (+ .stderr)"
        device = f"`{row['qemu_device']}`" if row["qemu_device"] else "all drives"
        lines.append(f"| `{name}` | `{row['command']}` | {device} | {row['exit_code']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    start = time.monotonic()
    if sys.argv[1:] == ["--readme"]:  # rewrite README.md from recorded.json, no guest
        doc = json.loads((DATA / "recorded.json").read_text())
        (DATA / "README.md").write_text(readme(doc))
        sys.exit(0)
    args = sys.argv[1:]
    record(only=tuple(args[1:]) if args[:1] == ["--only"] else ())
    print(f"recorded in {time.monotonic() - start:.0f} s", file=sys.stderr)
    sys.exit(0)
