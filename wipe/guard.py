"""The write guard: the one gate every write path passes before touching a target."""

from __future__ import annotations

import os

from wipe.blockdev import BlockFacts, inspect
from wipe.errors import GuardRefusal, NotATarget, TargetNotFound


def check_writable(path: str | os.PathLike[str], *, whole_disk: bool = True) -> BlockFacts:
    """Return the target's facts if it may be overwritten, else raise with every reason.

    Args:
        path: a block device node or a disk image file.
        whole_disk: refuse a partition; the station sanitizes whole drives.

    Raises:
        GuardRefusal: the target does not exist, is not a disk, holds the running system or
            swap, is mounted (itself or a partition), has holders, is read-only, is a
            partition when a whole disk is expected, or is empty.
    """
    text = os.fspath(path)
    try:
        facts = inspect(text)
    except TargetNotFound as e:
        raise GuardRefusal(text, "no such device or image file") from e
    except NotATarget as e:
        raise GuardRefusal(text, f"it is a {e.kind}, not a block device or image file") from e
    reasons = refusal_reasons(facts, whole_disk=whole_disk)
    if reasons:
        raise GuardRefusal(text, "; ".join(reasons))
    return facts


def refusal_reasons(facts: BlockFacts, *, whole_disk: bool = True) -> list[str]:
    """Every reason the guard would refuse `facts`, in a fixed order (empty when writable)."""
    reasons: list[str] = []
    if facts.system:
        why = facts.extra.get("system_reason") or "it carries the running system"
        reasons.append(f"holds the running system ({why})")
    if facts.swap:
        reasons.append(f"holds active swap ({', '.join(facts.swap)})")
    if facts.mountpoints:
        reasons.append(f"mounted at {', '.join(facts.mountpoints)}")
    if facts.holders:
        reasons.append(f"in use by {', '.join(facts.holders)} (holders)")
    if facts.read_only:
        reasons.append("read-only")
    if whole_disk and facts.is_partition:
        reasons.append(f"is a partition of {facts.parent}; give the whole disk /dev/{facts.parent}")
    if facts.attached_as:
        reasons.append(f"image is attached as {', '.join(facts.attached_as)}; detach it first")
    if facts.size_bytes == 0:
        reasons.append("has no media (size 0)")
    return reasons
