"""The file pass on real file systems (ext4, FAT, NTFS) behind GPT and MBR tables."""

from __future__ import annotations

from collections import Counter

import pytest

from scanners.scan import ScanOptions, scan
from tests.scanners.disks import Disk
from tests.scanners.documents import email, personnummer, totals

CHECKED = ("personnummer", "email")


def per_file(report) -> dict[str, Counter[str]]:
    """File-pass counts per planted file (archive members folded into their file)."""
    out: dict[str, Counter[str]] = {}
    for loc in report.locations:
        if "file" in loc and loc["category"] in CHECKED:
            out.setdefault(loc["file"].split("!", 1)[0], Counter())[loc["category"]] += loc["count"]
    return out


@pytest.fixture(params=["ext4_gpt", "fat_mbr", "ntfs_gpt", "exfat_mbr"])
def disk(request: pytest.FixtureRequest) -> Disk:
    return request.getfixturevalue(request.param)


def test_file_pass_counts_every_planted_file_exactly(disk: Disk, hasher) -> None:
    report = scan(disk.path, hasher, ScanOptions(passes=("files",)))
    expected = {disk.location(rel): Counter(p.files) for rel, p in disk.planted.items() if p.files}
    assert per_file(report) == expected
    sums = totals(disk.planted, "files")
    for category in CHECKED:
        assert report.findings[category].count == sums[category], category
    assert report.not_scannable == ()


def test_file_pass_names_nested_members(ext4_gpt: Disk, hasher) -> None:
    report = scan(ext4_gpt.path, hasher, ScanOptions(passes=("files",)))
    files = {(loc["category"], loc["file"]) for loc in report.locations if "file" in loc}
    assert ("personnummer", "partition 1:/docs/arkiv.zip!inner.zip!hemlig.txt") in files
    assert ("email", "partition 1:/docs/arkiv.zip!a.txt") in files
    assert ("personnummer", "partition 1:/docs/mail.eml!bilaga.txt") in files
    assert ("personnummer", "partition 1:/docs/logg.txt.gz!logg.txt") in files


def test_raw_pass_sees_deleted_and_compressed_data(disk: Disk, hasher) -> None:
    report = scan(disk.path, hasher, ScanOptions(passes=("raw",)))
    sums = totals(disk.planted, "raw")
    for category in CHECKED:
        assert report.findings[category].count == sums[category], category


def test_combined_counts_take_the_larger_pass_and_union_of_values(disk: Disk, hasher) -> None:
    report = scan(disk.path, hasher)
    raw, files = report.pass_results
    for category in CHECKED:
        union = raw.tally.digests[category] | files.tally.digests[category]
        assert report.findings[category].distinct == len(union)
        assert report.findings[category].count == max(
            raw.tally.counts[category], files.tally.counts[category], len(union)
        )
    # Each planted personnummer is a different value; the raw pass misses the base64 attachment
    # and the file pass the deleted file, so only the union has them all.
    assert (
        report.findings["personnummer"].distinct == totals(disk.planted, "raw")["personnummer"] + 1
    )


def test_report_holds_no_values(ext4_gpt: Disk, hasher) -> None:
    text = str(scan(ext4_gpt.path, hasher).to_dict())
    for n in (1, 10, 30, 40, 41, 70, 80):
        assert personnummer(n) not in text
        assert personnummer(n).replace("-", "") not in text
    assert email(1) not in text
    assert "testsson" not in text


def test_text_over_the_nlp_budget_goes_through_the_fast_path_with_the_same_counts(
    ext4_gpt: Disk, hasher
) -> None:
    from scanners.files import FileOptions

    options = ScanOptions(passes=("files",), files=FileOptions(nlp_max_chars=0))
    report = scan(ext4_gpt.path, hasher, options)
    expected = {
        ext4_gpt.location(rel): Counter(p.files) for rel, p in ext4_gpt.planted.items() if p.files
    }
    assert per_file(report) == expected
    assert report.pass_results[0].stats["texts_fast_path"] > 0
