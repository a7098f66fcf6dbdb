"""A synthetic customer drive with generated Swedish personal data, and what was planted where.

The drive is an MBR-partitioned image with one ext4 file system of documents (CSV, text in UTF-8
and UTF-16LE, a nested zip) and one deleted file whose blocks remain on the disk.

Used by `asset-pipeline demo` and by the end-to-end tests, so the planted counts are known.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from asset_pipeline.errors import PipelineError

MiB = 1024 * 1024
PARTITION_START = MiB  # first partition at 1 MiB, as partitioning tools align it

FIRST_NAMES = ("Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Anders", "Sofia", "Nils")
SURNAMES = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson")
STREETS = ("Storgatan", "Kungsvägen", "Skolgränd", "Kyrkvägen", "Parkgatan", "Sjötorget")
CITIES = (("Uppsala", "753"), ("Göteborg", "411"), ("Malmö", "211"), ("Stockholm", "113"))


class DemoDriveError(PipelineError):
    """The synthetic drive could not be built (a tool is missing or failed)."""


@dataclass
class Planted:
    """What was planted: counts per category overall, per file, and in deleted files."""

    totals: Counter[str] = field(default_factory=Counter)
    per_file: dict[str, Counter[str]] = field(default_factory=dict)
    deleted: Counter[str] = field(default_factory=Counter)

    def add(self, file: str, category: str, n: int = 1) -> None:
        """Count `n` planted values of `category` in `file`."""
        self.totals[category] += n
        self.per_file.setdefault(file, Counter())[category] += n


@dataclass(frozen=True, slots=True)
class DemoDrive:
    """The built image and what it holds."""

    image: Path
    size_bytes: int
    planted: Planted


def luhn_digit(digits: str) -> int:
    """Luhn check digit for `digits` (weights 2,1,2,... from the left of the payload's end)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


class People:
    """Deterministic generator of Swedish persons' data (all values synthetic)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def personnummer(self, *, twelve: bool = False, coordination: bool = False) -> str:
        """A valid personnummer (or samordningsnummer), in 10- or 12-digit written form."""
        born = date(1940, 1, 1) + timedelta(days=self.rng.randrange(0, 365 * 60))
        day = born.day + (60 if coordination else 0)
        serial = f"{self.rng.randrange(1, 1000):03d}"
        core = f"{born:%y%m}{day:02d}{serial}"
        check = luhn_digit(core)
        if twelve:
            return f"{born.year // 100}{core[:6]}-{serial}{check}"
        return f"{core[:6]}-{serial}{check}"

    def name(self) -> str:
        """A first name and surname."""
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(SURNAMES)}"

    def email(self, name: str) -> str:
        """An e-mail address derived from a name (ASCII-folded)."""
        local = name.lower().replace(" ", ".")
        for a, b in (("å", "a"), ("ä", "a"), ("ö", "o")):
            local = local.replace(a, b)
        return f"{local}{self.rng.randrange(10, 99)}@exempel.se"

    def phone(self) -> str:
        """A Swedish mobile number in the usual written form."""
        r = self.rng.randrange
        return f"07{self.rng.choice('0236')}-{r(100, 999)} {r(10, 99)} {r(10, 99)}"

    def address(self) -> str:
        """A street address with postnummer and city."""
        city, prefix = self.rng.choice(CITIES)
        street = f"{self.rng.choice(STREETS)} {self.rng.randrange(1, 80)}"
        return f"{street}, {prefix} {self.rng.randrange(10, 99)} {city}"

    def iban(self) -> str:
        """A Swedish IBAN (SE + mod-97 check digits + 20 digits), printed in groups of four."""
        bban = f"{self.rng.randrange(5000, 9999)}" + "".join(
            str(self.rng.randrange(10)) for _ in range(16)
        )
        numeric = int(bban + "281400")  # S=28 E=14, check digits 00
        check = 98 - numeric % 97
        raw = f"SE{check:02d}{bban}"
        return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))

    def card(self) -> str:
        """A Luhn-valid 16-digit Visa-style number in groups of four."""
        body = "4" + "".join(str(self.rng.randrange(10)) for _ in range(14))
        number = body + str(luhn_digit(body))
        return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def build_demo_drive(image: Path, *, seed: int = 2026, size: int = 64 * MiB) -> DemoDrive:
    """Build the synthetic customer drive at `image` and return what it holds.

    Raises:
        DemoDriveError: mkfs.ext4 or debugfs is missing or failed.
    """
    for tool in ("mkfs.ext4", "debugfs"):
        if shutil.which(tool) is None:
            raise DemoDriveError(f"{tool} is not installed (Debian package e2fsprogs)")
    people = People(seed)
    planted = Planted()
    with tempfile.TemporaryDirectory(prefix="demo-drive-") as tmp:
        root = Path(tmp) / "root"
        _write_documents(root, people, planted)
        deleted_name = "Tmp/utkast_raderad.txt"
        _plant_deleted(root / deleted_name, people, planted)
        part = Path(tmp) / "partition.img"
        with part.open("wb") as f:
            f.truncate(size - PARTITION_START)
        _run(["mkfs.ext4", "-q", "-F", "-L", "KUNDDISK", "-d", str(root), str(part)])
        _run(["debugfs", "-w", "-R", f"rm /{deleted_name}", str(part)])
        image.parent.mkdir(parents=True, exist_ok=True)
        with image.open("wb") as f:
            f.truncate(size)
        _write_mbr(image, size)
        _copy_sparse(part, image, PARTITION_START)
    return DemoDrive(image=image, size_bytes=size, planted=planted)


def _write_documents(root: Path, people: People, planted: Planted) -> None:
    (root / "Kunder").mkdir(parents=True)
    rows = ["namn;personnummer;e-post;telefon;adress"]
    for _ in range(12):
        name = people.name()
        rows.append(
            f"{name};{people.personnummer()};{people.email(name)};{people.phone()};"
            f"{people.address()}"
        )
    (root / "Kunder/kundregister.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for cat in ("person_name", "personnummer", "email", "phone", "postal_address"):
        planted.add("Kunder/kundregister.csv", cat, 12)

    (root / "Brev").mkdir()
    name = people.name()
    letter = (
        f"Hej {name},\n\nVi bekräftar din beställning. "
        f"Ditt personnummer {people.personnummer(twelve=True)} är registrerat "
        f"och fakturan skickas till {people.address()}.\n\n"
        "Med vänliga hälsningar\nKundtjänst\n"
    )
    (root / "Brev/bekraftelse.txt").write_text(letter, encoding="utf-8")
    for cat in ("person_name", "personnummer", "postal_address"):
        planted.add("Brev/bekraftelse.txt", cat)

    (root / "Ekonomi").mkdir()
    name = people.name()
    pay = (
        f"Utbetalning till {name}\nIBAN: {people.iban()}\nKort: {people.card()}\n"
        f"Samordningsnummer: {people.personnummer(coordination=True)}\n"
    )
    (root / "Ekonomi/utbetalning.txt").write_bytes(pay.encode("utf-16-le"))
    for cat in ("person_name", "iban", "payment_card", "samordningsnummer"):
        planted.add("Ekonomi/utbetalning.txt", cat)

    (root / "Arkiv").mkdir()
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        name = people.name()
        z.writestr("kund.txt", f"Kund: {name}\nPersonnr: {people.personnummer()}\n")
    outer = root / "Arkiv/gamla_kunder.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("2019/kunder_2019.zip", inner.getvalue())
    for cat in ("person_name", "personnummer"):
        planted.add("Arkiv/gamla_kunder.zip", cat)


def _plant_deleted(path: Path, people: People, planted: Planted) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    name = people.name()
    text = f"Utkast: {name}, personnummer {people.personnummer()}, e-post {people.email(name)}\n"
    path.write_text(text * 4, encoding="utf-8")
    for cat in ("person_name", "personnummer", "email"):
        planted.deleted[cat] += 4


def _write_mbr(image: Path, size: int) -> None:
    """One Linux partition (type 0x83) from 1 MiB to the end, in a classic MBR."""
    start = PARTITION_START // 512
    sectors = size // 512 - start
    entry = bytes([0x00, 0xFE, 0xFF, 0xFF, 0x83, 0xFE, 0xFF, 0xFF])
    entry += start.to_bytes(4, "little") + sectors.to_bytes(4, "little")
    mbr = bytearray(512)
    mbr[440:444] = random.Random(size).randbytes(4)  # disk signature
    mbr[446:462] = entry
    mbr[510:512] = b"\x55\xaa"
    with image.open("r+b") as f:
        f.write(mbr)


def _copy_sparse(src: Path, dst: Path, offset: int) -> None:
    """Copy `src` into `dst` at `offset`, skipping all-zero blocks so the image stays sparse."""
    block = MiB
    zero = bytes(block)
    with src.open("rb") as fin, dst.open("r+b") as fout:
        pos = 0
        while chunk := fin.read(block):
            if chunk != zero[: len(chunk)]:
                fout.seek(offset + pos)
                fout.write(chunk)
            pos += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())


def _run(cmd: list[str]) -> None:
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        detail = (e.stderr or e.stdout or "").strip().splitlines()
        raise DemoDriveError(f"{cmd[0]} failed: {detail[-1] if detail else e.returncode}") from e
