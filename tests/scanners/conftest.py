"""Fixtures for scanner tests (defined in `tests.scanners.disks`, shared with CLI tests)."""

from tests.scanners.disks import (  # noqa: F401 - fixtures are found by name
    corpus_dir,
    exfat_mbr,
    ext4_gpt,
    fat_mbr,
    hasher,
    key,
    ntfs_gpt,
)
