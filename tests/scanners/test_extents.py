"""One value counted once: raw findings placed through the file systems' extents (issue 14.4)."""

from __future__ import annotations

import base64
import struct
from email.message import EmailMessage
from pathlib import Path

import pytest

from scanners.files import FileOptions
from scanners.scan import ScanOptions, scan
from tests.scanners.disks import needs_tools
from tests.scanners.documents import email, personnummer
from tests.scanners.images import MiB, delete_ext4, fat_with_a_hole, make_fs, run

pytestmark = needs_tools


def places(report, category: str) -> list[tuple[str, str, int]]:
    """(file or offset, allocation, count) of every location of `category`."""
    return sorted(
        (str(loc.get("file", loc.get("offset"))), loc["allocation"], loc["count"])
        for loc in report.locations
        if loc["category"] == category
    )


def test_every_location_says_its_allocation_and_system_files_are_apart(
    tmp_path: Path, hasher
) -> None:
    src = tmp_path / "src"
    (src / "home" / "anna").mkdir(parents=True)
    (src / "usr" / "share" / "doc" / "tool").mkdir(parents=True)
    (src / "home" / "anna" / "brev.txt").write_text(f"Personnummer {personnummer(1)}\n")
    (src / "usr" / "share" / "doc" / "tool" / "copyright").write_text(f"Author <{email(2)}>\n")
    (src / "home" / "anna" / "borta.txt").write_text(f"Raderad {personnummer(3)}\n")
    # A value in a file name lives in the directory's blocks: file-system metadata.
    (src / "home" / "anna" / f"kund {personnummer(4)}.txt").write_text("tom\n")
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)
    delete_ext4(image, "/home/anna/borta.txt")

    report = scan(image, hasher)
    found = {(allocation, n) for _, allocation, n in places(report, "personnummer")}
    assert found == {
        ("live file", 1),
        ("deleted or unallocated", 1),
        ("file-system metadata", 1),
    }
    assert ("/home/anna/brev.txt", "live file", 1) in places(report, "personnummer")
    assert places(report, "email") == [("/usr/share/doc/tool/copyright", "live file", 1)]
    assert report.system_files == {"email": 1}
    doc = report.to_dict()
    assert doc["by_allocation"] == {
        "deleted or unallocated": {"personnummer": 1},
        "file-system metadata": {"personnummer": 1},
        "live file": {"personnummer": 1, "email": 1},
    }
    [system] = [loc for loc in doc["locations"] if loc.get("system")]
    assert system["file"] == "/usr/share/doc/tool/copyright"
    # The file pass matched none of these plain files again.
    files = report.pass_results[1]
    assert files.tally.counts["personnummer"] == files.tally.counts["email"] == 0
    assert files.stats["files_matched_by_raw"] == 3


def test_a_value_seen_by_both_passes_in_different_files_is_counted_each_time(
    tmp_path: Path, hasher
) -> None:
    # The same personnummer in a plain file, in a base64 mail attachment (only the file pass
    # decodes it) and in a deleted file (only the raw pass sees it): three occurrences, one value.
    value = personnummer(7)
    msg = EmailMessage()
    msg["From"] = "a@example.se"
    msg["To"] = "b@example.se"
    msg["Subject"] = "bilaga"
    msg.set_content("Se bilaga.\n")
    msg.add_attachment(
        f"Personnummer {value}\n".encode(), maintype="text", subtype="plain", filename="b.txt"
    )
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(f"Personnummer {value}\n")
    (src / "mail.eml").write_bytes(bytes(msg))
    (src / "c.txt").write_text(f"Personnummer {value}\n")
    assert base64.b64encode(value.encode()) not in bytes(msg)
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)
    delete_ext4(image, "/c.txt")

    new = scan(image, hasher).findings["personnummer"]
    old = scan(image, hasher, ScanOptions(map_extents=False)).findings["personnummer"]
    assert (new.count, new.distinct) == (3, 1)
    # The overlapping passes saw two each (raw: a.txt and c.txt; files: a.txt and the
    # attachment) and could only report the larger.
    assert (old.count, old.distinct) == (2, 1)


def _fat_entry(image: Path, short_name: bytes) -> int:
    data = image.read_bytes()
    at = data.find(short_name)
    assert at > 0, short_name
    return at


def test_file_slack_and_a_value_cut_by_fragmentation(tmp_path: Path, hasher) -> None:
    image = fat_with_a_hole(tmp_path)  # a one-cluster hole before X3
    # BIG.TXT takes the hole and then clusters after X3: its value straddles the two runs.
    value = f" Personnummer {personnummer(9)} ".encode()  # the number itself cut after 6 digits
    body = (b"x" * (512 - 6 - 14) + value).ljust(1024, b"y")
    (tmp_path / "BIG.TXT").write_bytes(body)
    run("mcopy", "-i", image, tmp_path / "BIG.TXT", "::/")
    # SLACK.TXT: 1000 bytes with a value at 600, then its size cut to 550 in the directory
    # entry, so the value lies in the file's slack.
    slack = b"s" * 600 + f" {email(9)} ".encode()
    (tmp_path / "SLACK.TXT").write_bytes(slack.ljust(1000, b"s"))
    run("mcopy", "-i", image, tmp_path / "SLACK.TXT", "::/")
    entry = _fat_entry(image, b"SLACK   TXT")
    with open(image, "r+b") as f:
        f.seek(entry + 28)
        f.write(struct.pack("<I", 550))

    report = scan(image, hasher)
    assert places(report, "personnummer") == [("/BIG.TXT", "live file", 1)]
    raw, files = report.pass_results
    assert raw.tally.counts["personnummer"] == 0  # the raw pass saw the two halves apart
    assert files.tally.counts["personnummer"] == 1  # the file pass read across the seam
    assert places(report, "email") == [("/SLACK.TXT", "file slack", 1)]
    assert report.findings["personnummer"].count == 1


def test_a_gzip_log_split_on_the_device_is_inflated_along_its_file(tmp_path: Path, hasher) -> None:
    """A rotated log written into a hole between two files is in two pieces. The raw pass read
    its stream on into the next file, lost the rest of the log (and inflated bytes that were
    no part of it); it now follows the file's clusters, as the file pass does."""
    import gzip
    import random

    rng = random.Random(15)
    image = tmp_path / "fat.img"
    with open(image, "wb") as f:
        f.truncate(16 * MiB)
    run("mkfs.vfat", "-F", "16", "-s", "1", image)  # 512-byte clusters
    for name in ("X1.BIN", "X2.BIN", "X3.BIN"):
        (tmp_path / name).write_bytes(rng.randbytes(64 << 10))
        run("mcopy", "-i", image, tmp_path / name, "::/")
    run("mdel", "-i", image, "::/X2.BIN")  # a 64 KiB hole before X3
    lines = [f"{rng.randrange(10**6)} to=<{email(i)}> status=sent\n" for i in range(30_000)]
    log = gzip.compress("".join(lines).encode())
    assert len(log) > 3 * (64 << 10)
    (tmp_path / "MAIL.GZ").write_bytes(log)
    run("mcopy", "-i", image, tmp_path / "MAIL.GZ", "::/")
    data = image.read_bytes()
    head = data.find(log[:4096])
    assert head > 0
    assert data[head : head + len(log)] != log  # not in one piece

    raw_only = scan(image, hasher, ScanOptions(passes=("raw",)))
    assert raw_only.findings["email"].count == len(lines)
    assert raw_only.findings["email"].distinct == len(lines)
    assert raw_only.not_scannable == ()
    both = scan(image, hasher)  # the file pass unpacks the log: the same count
    assert both.findings["email"].count == len(lines)


def test_a_gzip_text_is_matched_by_the_raw_pass_and_other_gzip_files_by_the_file_pass(
    tmp_path: Path, hasher
) -> None:
    """A gzip'd log is text the raw pass reads as it inflates it: the file pass, which used to
    inflate and match it again in full, reads only the names in its head. A gzip'd CSV with a
    personnummer column and a gzip'd tar are still unpacked by the file pass."""
    import gzip
    import io
    import tarfile

    src = tmp_path / "src"
    (src / "logs").mkdir(parents=True)
    lines = [f"Kund: Anna Svensson to=<{email(i)}> status=sent\n" for i in range(2000)]
    (src / "logs" / "mail.log.1.gz").write_bytes(gzip.compress("".join(lines).encode()))
    bare = [personnummer(i).replace("-", "")[-10:] for i in range(6)]
    table = "kund;pnr\n" + "".join(f"x;{v}\n" for v in bare)
    (src / "kunder.csv.gz").write_bytes(gzip.compress(table.encode()))
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as t:
        body = f"Personnummer {personnummer(40)}\n".encode()
        info = tarfile.TarInfo("brev.txt")
        info.size = len(body)
        t.addfile(info, io.BytesIO(body))
    (src / "backup.tar.gz").write_bytes(gzip.compress(tar.getvalue()))
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)

    report = scan(image, hasher)
    raw, files = report.pass_results
    assert raw.stats["streams_inflated"] == 1  # the log
    assert raw.stats["streams_left_to_file_pass"] == 2  # the CSV and the tar
    assert "files_streamed" not in files.stats  # the file pass did not inflate the log
    assert report.findings["email"].count == len(lines)
    assert places(report, "email") == [("/logs/mail.log.1.gz", "live file", len(lines))]
    assert report.findings["personnummer"].count == 6 + 1  # the bare column values, the tar's
    assert report.findings["person_name"].count >= 1  # in the log's head, by the file pass
    assert ("/logs/mail.log.1.gz", "live file") in {
        (f, a) for f, a, _ in places(report, "person_name")
    }
    assert report.not_scannable == ()


def test_a_gzip_log_over_the_file_pass_unpack_limit_is_read_whole(tmp_path: Path, hasher) -> None:
    """The file pass stops a gzip member at its unpack limit (32 MiB; 1 MiB here) and counts
    nothing of it; the raw pass reads a gzip'd text to its end within its own limits."""
    import gzip

    from scanners import formats

    src = tmp_path / "src"
    src.mkdir()
    lines = [f"{i} to=<{email(i)}> status=sent\n" for i in range(100_000)]
    text = "".join(lines).encode()
    assert len(text) > 3 * MiB
    (src / "mail.log.2.gz").write_bytes(gzip.compress(text))
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)
    small = FileOptions(limits=formats.Limits(max_member=1 * MiB))
    report = scan(image, hasher, ScanOptions(files=small))
    assert report.findings["email"].count == len(lines)
    assert report.not_scannable == ()


def test_a_gzip_log_of_repeated_lines_is_read_whole_in_a_full_scan(tmp_path: Path, hasher) -> None:
    """A log of one line repeated compresses far past the raw pass's ratio guard (32x), which
    stops a stream after its held 16 MiB; the file pass reads such a log to its 32 MiB limit.
    Handed to the raw pass as text, its value past 16 MiB was reported and not read."""
    import gzip

    src = tmp_path / "src"
    src.mkdir()
    line = b"Mar  1 00:00:00 mx1 sshd[811]: Connection closed by 10.0.0.1 port 22\n"
    text = line * ((20 << 20) // len(line)) + f"Kund {personnummer(8)}\n".encode() + line * 100
    packed = gzip.compress(text)
    assert len(text) > 32 * len(packed)
    (src / "auth.log.1.gz").write_bytes(packed)
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)
    report = scan(image, hasher)
    assert report.findings["personnummer"].count == 1
    assert report.not_scannable == ()


def test_a_gzip_log_whose_first_member_repeats_a_line_is_read_whole(tmp_path: Path, hasher) -> None:
    """The gzip trailer gives the last member's size only: a small second member let a first
    member of one line repeated (20 MiB packed some 300x smaller, a personnummer past 20 MiB)
    go to the raw pass, whose ratio guard stopped it after the held 16 MiB. The file pass
    reads such a member to 32 MiB; the raw pass now reads every stream at least that far."""
    import gzip

    src = tmp_path / "src"
    src.mkdir()
    line = b"Mar  1 00:00:00 mx1 sshd[811]: Connection closed by 10.0.0.1 port 22\n"
    first = line * ((20 << 20) // len(line)) + f"Kund {personnummer(8)}\n".encode()
    second = b"Mar  2 00:00:00 mx1 sshd[812]: Accepted for kund@example.se\n" * 20
    (src / "auth.log.1.gz").write_bytes(gzip.compress(first) + gzip.compress(second))
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)
    report = scan(image, hasher)
    assert report.findings["personnummer"].count == 1
    assert report.findings["email"].count == 20
    assert report.not_scannable == ()


def _bare(n: int) -> list[str]:
    """`n` personnummer as bare ten digits: a value only beside its column's name."""
    return [personnummer(i).replace("-", "")[-10:] for i in range(n)]


def _scan_files(tmp_path: Path, hasher, files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    """The full scan of an ext4 image holding `files`."""
    src = tmp_path / "src"
    src.mkdir()
    for name, data in files.items():
        (src / name).write_bytes(data)
    return scan(make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src), hasher)


def test_a_camel_case_personnummer_column_is_left_to_the_file_pass(tmp_path: Path, hasher) -> None:
    # The extent map once had its own, exact list of column names: `KundPnr` was not in it, so
    # the raw pass kept the CSV, the file pass skipped it, and the bare numbers were lost.
    rows = "".join(f"{v};100\n" for v in _bare(6))
    report = _scan_files(tmp_path, hasher, {"kunder.csv": ("KundPnr;belopp\n" + rows).encode()})
    assert report.findings["personnummer"].count == 6


def test_personnummer_columns_in_utf16_and_cp1252_are_left_to_the_file_pass(
    tmp_path: Path, hasher
) -> None:
    """Attack: tables the map read as UTF-8 only. A UTF-16LE CSV's header was `p\0n\0r\0`
    to it, and a cp1252 `födelsenummer` an undecodable `f\ufffddelsenummer`: the raw pass kept
    both files, the file pass skipped them, and the bare numbers had no keyword near them."""
    bare = _bare(24)
    wide = "kund;personnummer;belopp\n" + "".join(f"Anna;{v};100\n" for v in bare[:8])
    bom = "\ufeffpersonnummer;belopp\n" + "".join(f"{v};1\n" for v in bare[8:16])
    latin = "födelsenummer;namn\n" + "".join(f"{v};Åsa\n" for v in bare[16:])
    files = {
        "wide.csv": wide.encode("utf-16-le"),
        "bom.csv": bom.encode("utf-16-le"),
        "latin.csv": latin.encode("cp1252"),
    }
    report = _scan_files(tmp_path, hasher, files)
    assert report.findings["personnummer"].count == 24


def test_a_letter_with_a_value_on_its_first_line_is_left_to_the_raw_pass(
    tmp_path: Path, hasher
) -> None:
    """Prose is no table: "personnummer 400101-1008," on a letter's first line took the whole
    letter from the raw pass to the file pass (the mixed bench's 1,288 letters, 150 MB)."""
    from scanners.extents import map_target
    from scanners.target import Target

    src = tmp_path / "src"
    src.mkdir()
    lines = [
        f"Kund Anna Berg, personnummer {personnummer(i)}, e-post {email(i)}, telefon 0701234567."
        for i in range(10)
    ]
    (src / "brev.txt").write_text("\n".join(lines) + "\n")
    (src / "kunder.csv").write_text("namn;personnummer\nAnna;" + personnummer(99) + "\n")
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)
    with Target(image) as target:
        extents = map_target(target, decoded_by_files=True)
    assert any(p.endswith("brev.txt") for p in extents.raw_readable)
    assert not any(p.endswith("kunder.csv") for p in extents.raw_readable)
    report = scan(image, hasher)
    assert report.findings["personnummer"].count == 11
    assert report.findings["email"].count == 10


def test_a_value_on_a_files_first_line_after_another_files_binary_tail_is_found(
    tmp_path: Path, hasher
) -> None:
    """A plain file is left to the raw pass, whose context window before a file's first byte
    reaches into the block before it. With another file's random bytes there, the noise rule
    took three e-mail addresses at the start of their files for chance (0 of 3 found; the file
    pass no longer re-reads plain files, so this was a false clean)."""
    import random

    rng = random.Random(14)
    src = tmp_path / "src"
    src.mkdir()
    firsts = ["anna.svensson@example.se\n", "<a.b@firma.se>", "x anna@example.se"]
    for i, text in enumerate(firsts):
        (src / f"{i}a.bin").write_bytes(rng.randbytes(8192))
        (src / f"{i}b.txt").write_text(text)
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)
    data = image.read_bytes()
    for text in firsts:  # each file starts a block right after a block of random bytes
        at = data.find(text.encode())
        assert at % 512 == 0
        assert not data[at - 24 : at].isascii()

    report = scan(str(image), hasher, ScanOptions())
    assert report.findings["email"].count == 3
    assert report.findings["email"].distinct == 3


def test_a_value_on_a_files_last_line_before_random_slack_is_found(tmp_path: Path, hasher) -> None:
    """FAT and NTFS leave a file's slack as the sector held it; a drive once encrypted holds
    random bytes there. The noise rule took the addresses on two files' last lines for chance
    (0 of 2 found; the file pass no longer re-reads plain files, so this was a false clean)."""
    import random

    rng = random.Random(3)
    src = tmp_path / "src"
    src.mkdir()
    lasts = ["Kontakt: anna.svensson@example.se\n", "Mejla oss på kundtjanst@firma.se"]
    for i, text in enumerate(lasts):
        (src / f"{i}.txt").write_text("Rad med vanlig text utan uppgifter.\n" * 3 + text)
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)
    data = bytearray(image.read_bytes())
    for text in lasts:
        end = data.find(text.encode()) + len(text.encode())
        slack = -end % 1024  # to the end of the file's block
        data[end : end + slack] = rng.randbytes(slack)
    image.write_bytes(bytes(data))

    report = scan(str(image), hasher, ScanOptions())
    assert report.findings["email"].count == 2


def test_a_second_gzip_member_and_bytes_after_it_are_found_by_the_full_scan(
    tmp_path: Path, hasher
) -> None:
    """Attack: the raw pass leaves a gzip file to the file pass, which read only its first
    member, so values in a second member or appended after the last were counted nowhere (a
    raw-only scan found them). Both passes, with the file pass in its thread and in workers."""
    import gzip

    src = tmp_path / "src"
    src.mkdir()
    first = "".join(f"to=<{email(i)}>\n" for i in range(300)).encode()
    second = "".join(f"Kund personnummer {personnummer(i)}\n" for i in range(20)).encode()
    appended = "".join(f"pnr {personnummer(i + 50)}\n" for i in range(5)).encode()
    (src / "mail.log.1.gz").write_bytes(gzip.compress(first) + gzip.compress(second) + appended)
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)
    raw_only = scan(image, hasher, ScanOptions(passes=("raw",)))
    for processes_from in (None, 0):
        files = FileOptions(processes_from=processes_from)
        report = scan(image, hasher, ScanOptions(files=files))
        assert report.findings["personnummer"].count == 25, processes_from
        assert report.findings["email"].count == 300
        assert not report.not_scannable
    assert raw_only.findings["personnummer"].count == 25


def test_a_file_that_turns_binary_past_its_head_is_read_not_reported(
    tmp_path: Path, hasher
) -> None:
    """Attack: text that turns binary after the bytes the map sniffs (a self-extracting
    archive: a script, then a zip). The raw pass reads it byte for byte; the file pass's names
    read got no text for it and failed on it (TypeError), so the file was listed as not
    scannable although it had been read."""
    import io
    import zipfile

    src = tmp_path / "src"
    src.mkdir()
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as z:
        z.writestr("a.txt", "hej\n" * 100)
    script = "".join(f"# pnr {personnummer(i)}\n" for i in range(5)).encode()
    (src / "installer.sh").write_bytes(script + packed.getvalue())
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)
    report = scan(image, hasher)
    assert report.findings["personnummer"].count == 5
    assert not report.not_scannable


@pytest.mark.parametrize("columns", [400, 7000])
def test_a_personnummer_column_named_past_the_maps_head_is_left_to_the_file_pass(
    tmp_path: Path, hasher, columns: int
) -> None:
    """Attack: a wide table whose header names its personnummer column after the map's 4 KB
    head (4.4 KB of header; and 84 KB, past the 64 KB the map reads of a first line). The map
    saw no such column, the raw pass kept the file, the file pass skipped it: 0 of 20."""
    bare = _bare(20)
    header = ";".join([f"kolumn_{i:04d}" for i in range(columns)] + ["personnummer"])
    rows = "".join(";".join(["x"] * columns + [v]) + "\n" for v in bare)
    report = _scan_files(tmp_path, hasher, {"wide.csv": (header + "\n" + rows).encode()})
    assert report.findings["personnummer"].count == 20


def test_a_raw_only_map_reads_no_file_heads(tmp_path: Path, hasher, monkeypatch) -> None:
    """Without a file pass nothing asks which files the raw pass reads as they are; judging
    it read every file's head, half of mapping the mixed bench image before the raw pass
    could start. The map of a raw-only scan places the files all the same."""
    from scanners import extents as extents_module
    from scanners.extents import map_target
    from scanners.target import Target

    src = tmp_path / "src"
    src.mkdir()
    (src / "brev.txt").write_text(f"Kund Anna Berg, personnummer {personnummer(1)}.\n")
    (src / "kunder.csv").write_text("namn;personnummer\nAnna;" + personnummer(2) + "\n")
    image = make_fs("ext4", tmp_path / "fs.img", 16 * MiB, src)
    heads: list[str] = []
    judge = extents_module.raw_readable
    monkeypatch.setattr(
        extents_module,
        "raw_readable",
        lambda ref, *rest: heads.append(ref.path) or judge(ref, *rest),
    )
    with Target(image) as target:
        alone = map_target(target, decoded_by_files=False)
        assert heads == []
        assert not alone.raw_readable
        both = map_target(target, decoded_by_files=True)
    assert sorted(heads) == ["/brev.txt", "/kunder.csv"]
    assert len(alone) == len(both)
    assert alone.files == both.files == 2
    report = scan(image, hasher, ScanOptions(passes=("raw",)))
    assert report.findings["personnummer"].count == 2
    assert {p for p, _, _ in places(report, "personnummer")} == {"/brev.txt", "/kunder.csv"}
