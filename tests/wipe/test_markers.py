"""Firmware-erase verification with markers, on real loop devices.

The "erase" here is a real overwrite of the device standing in for what a drive's command
would do; "nothing" stands for a drive whose tool reported success and changed nothing.
"""

from __future__ import annotations

from wipe_helpers import MiB

from wipe import Pattern, check_erase, open_target, overwrite, plant_markers


def test_markers_gone_and_zeros_found_after_a_zeroing_erase(make_loop) -> None:
    dev = make_loop(64 * MiB)
    overwrite(dev, Pattern.random())
    with open_target(dev) as target:
        evidence = plant_markers(target, count=16)
        assert len(evidence.markers) == 16
        assert evidence.markers[0].offset == 0
        overwrite(target, Pattern.zeros())
        result = check_erase(target, evidence, "zeros")
    assert result.passed, result.to_dict()
    assert result.method == "markers"
    assert result.coverage >= 0.01


def test_an_erase_that_did_nothing_is_caught(make_loop) -> None:
    dev = make_loop(64 * MiB)
    overwrite(dev, Pattern.random())
    with open_target(dev) as target:
        evidence = plant_markers(target, count=8)
        for expected in ("any", "changed", "zeros"):
            result = check_erase(target, evidence, expected)
            assert not result.passed, expected
            assert result.mismatched_bytes > 0
        notes = check_erase(target, evidence, "any").notes
    assert notes == ("8 of 8 markers survived the erase",)


def test_crypto_erase_expectation_is_changed_content(make_loop) -> None:
    dev = make_loop(64 * MiB)
    overwrite(dev, Pattern.random())
    with open_target(dev) as target:
        evidence = plant_markers(target)
        overwrite(target, Pattern.random())  # new key: what a crypto erase makes the drive read
        assert check_erase(target, evidence, "changed").passed
        assert not check_erase(target, evidence, "zeros").passed


def test_markers_are_read_once_and_counted_once(make_loop) -> None:
    dev = make_loop(64 * MiB)
    overwrite(dev, Pattern.random())
    with open_target(dev) as target:
        evidence = plant_markers(target, count=8)
        marker_bytes = sum(m.length for m in evidence.markers)
        sample_bytes = sum(s.length for s in evidence.samples)
        overwrite(target, Pattern.random())
        anything = check_erase(target, evidence, "any")
        changed = check_erase(target, evidence, "changed")
    assert anything.passed
    assert changed.passed
    assert anything.bytes_read == marker_bytes
    assert changed.bytes_read == marker_bytes + sample_bytes
