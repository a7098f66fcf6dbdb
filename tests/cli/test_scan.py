"""`asset-pipeline scan`: JSON contract, option clash, errors, read-only devices, no values."""

from __future__ import annotations

import json
import os

import pytest

from tests.scanners.disks import corpus_dir, ext4_gpt, key  # noqa: F401 - shared fixtures
from tests.scanners.documents import email, personnummer, totals
from wipe import GuardRefusal, check_writable


def test_json_report_of_an_image(run_cli, ext4_gpt) -> None:  # noqa: F811
    result = run_cli("scan", str(ext4_gpt.path), "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["passes"] == ["raw", "files"]
    assert doc["size_bytes"] == ext4_gpt.path.stat().st_size
    # Every planted personnummer is a different value: the union of both passes has them all.
    assert (
        doc["findings"]["personnummer"]["distinct"]
        == totals(ext4_gpt.planted, "raw")["personnummer"] + 1
    )
    assert {
        "category": "email",
        "file": "partition 1:/docs/kunder.csv",
        "allocation": "live file",
        "count": 3,
    } in doc["locations"]
    assert doc["not_scannable"] == []
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_output_never_holds_a_value(run_cli, ext4_gpt) -> None:  # noqa: F811
    for args in (["--json"], [], ["--raw-only"], ["--files-only", "--json"]):
        result = run_cli("scan", str(ext4_gpt.path), *args)
        out = result.stdout + result.stderr
        assert "personnummer" in out
        for n in (1, 10, 30, 41, 80):
            assert personnummer(n) not in out
            assert personnummer(n).replace("-", "") not in out
        assert email(1) not in out
        assert "testsson" not in out


@pytest.mark.parametrize(("flag", "passes"), [("--raw-only", ["raw"]), ("--files-only", ["files"])])
def test_single_pass(run_cli, ext4_gpt, flag, passes) -> None:  # noqa: F811
    doc = json.loads(run_cli("scan", str(ext4_gpt.path), flag, "--json").stdout)
    assert doc["passes"] == passes


def test_option_clash_names_both_flags(run_cli, tmp_path) -> None:
    result = run_cli("scan", str(tmp_path / "x.img"), "--raw-only", "--files-only")
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: --raw-only cannot be used with --files-only\n")


def test_missing_target_is_one_line(run_cli, tmp_path) -> None:
    result = run_cli("scan", str(tmp_path / "nope.img"))
    assert result.exit_code == 1
    assert (
        result.stderr == f"Error: cannot scan {tmp_path / 'nope.img'}: No such file or directory\n"
    )


def test_text_output_lists_categories_and_unscannable(run_cli, tmp_path) -> None:
    disk = tmp_path / "one.img"
    with open(disk, "wb") as f:
        f.truncate(4 << 20)
        f.seek(1 << 20)
        f.write(f" {email(5)} ".encode())
    result = run_cli("scan", str(disk))
    assert result.exit_code == 0
    assert "│ email    │ 1     │ 1        │" in result.stdout
    assert "Not scannable" not in result.stdout
    zeros = tmp_path / "zeros.img"
    with open(zeros, "wb") as f:
        f.truncate(4 << 20)
    assert "No personal data found.\n" in run_cli("scan", str(zeros)).stdout
    junk = tmp_path / "junk.img"
    junk.write_bytes(os.urandom(4 << 20))
    assert "Not scannable" in run_cli("scan", str(junk)).stdout


def test_read_only_device_the_guard_refuses_is_scanned(run_cli, make_loop, ext4_gpt) -> None:  # noqa: F811
    dev = make_loop(image=ext4_gpt.path, read_only=True)
    with pytest.raises(GuardRefusal):
        check_writable(dev)
    from_device = json.loads(run_cli("scan", str(dev), "--json").stdout)
    from_image = json.loads(run_cli("scan", str(ext4_gpt.path), "--json").stdout)
    assert from_device["findings"]["personnummer"] == from_image["findings"]["personnummer"]
    assert from_device["findings"]["email"] == from_image["findings"]["email"]
    assert from_device["size_bytes"] == from_image["size_bytes"]


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys) -> None:
    import sys

    from asset_pipeline.cli.scan import progress_bar

    with progress_bar() as update:
        assert update is None  # pytest's stderr is not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress_bar() as update:
        update("raw", 50_000_000, 100_000_000)
        update("files", 1_000, 0)  # the file pass has no known total
    assert "raw pass" in capsys.readouterr().err


def test_debug_log_of_a_damaged_drive_holds_no_value(run_cli, ext4_gpt, tmp_path, caplog) -> None:  # noqa: F811
    import logging
    import shutil

    damaged = tmp_path / "damaged.img"
    shutil.copyfile(ext4_gpt.path, damaged)
    with open(damaged, "r+b") as f:
        f.seek((1 << 20) + 1024)
        f.write(b"\xff" * 56)  # broken superblock counts: the file system cannot be walked
    caplog.set_level(logging.DEBUG)
    result = run_cli("-v", "scan", str(damaged), "--json")
    assert json.loads(result.stdout)["not_scannable"]
    text = caplog.text + result.stdout + result.stderr
    for n in (1, 10, 30, 41, 80):
        assert personnummer(n) not in text
        assert personnummer(n).replace("-", "") not in text
    assert "testsson" not in text


def test_hybrid_mbr_gpt_disk_scans_with_exit_0(run_cli, tmp_path) -> None:
    # Boot Camp's layout: the MBR repeats a GPT partition. It made `scan` exit 1 with no JSON.
    from tests.scanners.images import MiB, Volume, build_disk, make_fs

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(f"personnummer {personnummer(5)}\n")
    fs = make_fs("ext4", tmp_path / "h.fs", 16 * MiB, src)
    disk = tmp_path / "hybrid.img"
    build_disk(disk, "gpt", [Volume("ext4", 16 * MiB, image=fs)], hybrid=[0])
    result = run_cli("scan", str(disk), "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["findings"]["personnummer"] == {"count": 1, "distinct": 1}
    assert doc["not_scannable"] == []
    assert {
        "category": "personnummer",
        "file": "partition 1:/a.txt",
        "allocation": "live file",
        "count": 1,
    } in doc["locations"]
