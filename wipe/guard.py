"""The write guard: the one gate every write path passes before touching a target.

It judges the target's whole storage stack (`wipe.stack`): a loop device over a mounted loop
device, a second loop device on a mounted image, device-mapper over a loop device over a mounted
partition are refused like a mounted disk, and so is a device or image any other process holds
open.
"""

from __future__ import annotations

import os
import time

from wipe.blockdev import BlockFacts, children, inspect
from wipe.errors import GuardRefusal, NotATarget, TargetNotFound
from wipe.image import recognize
from wipe.openers import describe, exclusive_claim, without_probers
from wipe.stack import TARGET, Key, Layer, Survey, resolve

# A device that is open only for a moment (udev probing a new partition table, another
# station's listing) is asked again for this long before the guard refuses it for being open.
OPEN_SETTLE = 1.5  # seconds
OPEN_RETRY = 0.1

NOT_AN_IMAGE = (
    "it does not look like a disk image (no partition table, file-system or volume signature, "
    "and not all zeros); --image forces it"
)


def check_writable(path: str | os.PathLike[str], *, whole_disk: bool = True) -> BlockFacts:
    """Return the target's facts if it may be overwritten now, else raise with every reason.

    Besides what `refusal_reasons` finds, each block device in the stack that nothing else
    explains is opened once with O_EXCL (read-only, closed at once): only that shows a claim
    the kernel keeps without a mount, such as a file system lazily unmounted while in use.

    Args:
        path: a block device node or a disk image file.
        whole_disk: refuse a partition; the station sanitizes whole drives.

    Raises:
        GuardRefusal: the target does not exist, is not a disk, is read-only, a partition when
            a whole disk is expected, or empty; or any layer of its storage stack holds the
            running system or swap, is mounted, held, or open in another process.
    """
    text = os.fspath(path)
    facts = _inspect(text)
    reasons = refusal_reasons(facts, whole_disk=whole_disk, active=True)
    if reasons:
        raise GuardRefusal(text, "; ".join(reasons))
    return facts


def check_target(path: str | os.PathLike[str], *, force_image: bool = False) -> BlockFacts:
    """The gate for a target an operator names: `check_writable`, and a file must be an image.

    A regular file is taken only when it looks like a disk image (`wipe.image.recognize`),
    so a mistyped path to a document is not overwritten and certified.

    Args:
        path: a block device node or a disk image file.
        force_image: take a regular file even when it does not look like a disk image.

    Raises:
        GuardRefusal: as `check_writable`, or the file does not look like a disk image.
    """
    facts = check_writable(path)
    if facts.kind == "image" and not force_image and recognize(facts.path) is None:
        raise GuardRefusal(os.fspath(path), NOT_AN_IMAGE)
    return facts


def refusal_reasons(
    facts: BlockFacts,
    *,
    whole_disk: bool = True,
    active: bool = False,
    as_target: bool = False,
    survey: Survey | None = None,
) -> list[str]:
    """Every reason the guard would refuse `facts`, in a fixed order (empty when writable).

    Descriptors can be fleeting (udev probes every new partition table): a listing leaves
    udev's workers out, and an active check asks again for up to OPEN_SETTLE seconds while
    open descriptors are the only reasons.

    Args:
        facts: the target's kernel facts (`wipe.blockdev.inspect`).
        whole_disk: refuse a partition.
        active: also try O_EXCL opens (`check_writable` does; a listing does not, so that it
            never makes a running wipe's own exclusive open fail).
        as_target: judge a regular file as `check_target` does (it must look like an image).
        survey: a listing's one look at the system for all its drives (an active check
            always takes its own).
    """
    own = _own_reasons(facts, whole_disk=whole_disk)
    deadline = time.monotonic() + OPEN_SETTLE
    shared = None if active else survey
    while True:
        survey = shared or Survey.take()
        found, opened = _stack_reasons(resolve(facts, survey), survey, active=active and not own)
        only_open = opened and opened == len(found) and not own
        if not (active and only_open) or time.monotonic() > deadline:
            break
        time.sleep(OPEN_RETRY)
    reasons = own + found
    if as_target and facts.kind == "image" and facts.size_bytes and recognize(facts.path) is None:
        reasons.append(NOT_AN_IMAGE)
    return list(dict.fromkeys(reasons))


def _inspect(text: str) -> BlockFacts:
    try:
        return inspect(text)
    except TargetNotFound as e:
        raise GuardRefusal(text, "no such device or image file") from e
    except NotATarget as e:
        raise GuardRefusal(text, f"it is a {e.kind}, not a block device or image file") from e


def _own_reasons(facts: BlockFacts, *, whole_disk: bool) -> list[str]:
    """What the target's own facts (the disk and its partitions) say."""
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
    if facts.size_bytes == 0:
        reasons.append("has no media (size 0)")
    return reasons


def _stack_reasons(
    layers: dict[Key, Layer], survey: Survey, *, active: bool
) -> tuple[list[str], int]:
    """What the other layers say, and who has any layer open; the target's own layers first.

    Returns the reasons, and how many of them are descriptors open in another process.
    """
    reasons: list[str] = []
    opened = 0
    target = next(iter(layers.values()), None)
    attached = [
        layer.node
        for layer in layers.values()
        if target is not None and target.kind == "file" and layer.via == "loop"
        and layer.parent == ("file", target.file_id or target.name)
    ]  # fmt: skip
    if attached:
        reasons.append(f"image is attached as {', '.join(attached)}; detach it first")
    # A stack this process already holds part of is being worked on by this very process (a
    # firmware erase re-checks the drive it has open): the kernel refuses O_EXCL on the rest
    # of it (the partitions of a claimed disk) because of us, so no trial can tell anything.
    own = survey.open.own_block
    active = active and not any(layer.devno in own for layer in layers.values() if layer.devno)
    for layer in layers.values():
        found, layer_open = _layer_reasons(layer, layers, survey, active=active)
        reasons += found
        opened += layer_open
        if active and not found and layer.kind == "block" and _may_try_exclusive(layer):
            claim = exclusive_claim(layer.node)
            if claim:
                reasons.append(claim if layer.direction == TARGET else f"{layer.label}: {claim}")
    return reasons, opened


def _layer_reasons(
    layer: Layer, layers: dict[Key, Layer], survey: Survey, *, active: bool
) -> tuple[list[str], int]:
    # The target's own layers (the disk and its partitions) were judged by _own_reasons.
    reasons = [] if layer.direction == TARGET else _use_reasons(layer, layers, survey)
    itself = layer.via == ""
    openers = _openers(layer, survey)
    if openers and not active:
        openers = without_probers(openers)
    if openers:
        reasons.append(f"{'' if itself else layer.label + ' is '}open in {describe(openers)}")
        return reasons, 1
    if layer.kind == "block" and layer.devno and not survey.mounts.get(layer.devno):
        users = survey.open.on_fs.get(layer.devno)
        if users:  # a file system no longer mounted anywhere, still in use (lazy umount)
            where = "it" if itself else layer.label
            reasons.append(f"a file system on {where} is still in use by {describe(users)}")
            return reasons, 1
    return reasons, 0


def _use_reasons(layer: Layer, layers: dict[Key, Layer], survey: Survey) -> list[str]:
    """What makes a layer other than the target's own ones unsafe to change."""
    if layer.kind == "file":
        swap = layer.file_id in survey.swap_files
        return [f"{layer.label} is an active swap file"] if swap else []
    reasons: list[str] = []
    if layer.name in survey.system:
        reasons.append(f"{layer.label} holds the running system ({survey.system[layer.name]})")
    if layer.name in survey.swap_names:
        reasons.append(f"{layer.label} holds active swap")
    points = survey.mounts.get(layer.devno, []) if layer.devno else []
    if points:
        reasons.append(f"{layer.label} is mounted at {', '.join(sorted(set(points)))}")
    parent = layers.get(layer.parent) if layer.parent else None
    # A holder of the target itself is named by _own_reasons; any other holder, and a loop
    # device whose file lives in a file system there, use data the target's write changes.
    if layer.via == "fsloop" or (
        layer.via == "holder" and parent is not None and parent.direction != TARGET
    ):
        reasons.append(f"in use by {layer.label}")
    return reasons


def _openers(layer: Layer, survey: Survey) -> set[int]:
    table = survey.open
    if layer.kind == "block":
        return table.block.get(layer.devno, set()) if layer.devno else set()
    return table.files.get(layer.file_id, set()) if layer.file_id else set()


def _may_try_exclusive(layer: Layer) -> bool:
    """An O_EXCL trial tells something only where no holder claims the device by design.

    Not on the disk that holds a partition in the stack either: the kernel marks a whole disk
    claimed while any of its partitions is, so that trial would only repeat (or, for another
    partition of the disk, invent) a reason.
    """
    if layer.devno is None or layer.via == "disk":
        return False
    return not children(layer.name, "holders")
