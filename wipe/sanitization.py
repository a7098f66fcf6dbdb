"""Carrying out a plan: guard, open, overwrite or firmware erase, verify, one result.

Whatever happens (I/O errors, a vanished device, a drive that lies, a cancel), the caller gets
a `WipeResult` whose outcome is `passed` only when every step completed and the verification
found exactly what the method promised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wipe.errors import DeviceGone, WipeError
from wipe.firmware import SANITIZERS, FirmwareResult
from wipe.hidden import HiddenAreas, after_wipe
from wipe.markers import check_erase, plant_markers
from wipe.overwrite import FaultRange, OverwriteResult, overwrite
from wipe.pattern import Pattern
from wipe.plan import DESTROY, Plan
from wipe.target import Target, open_target
from wipe.verification import VerificationResult, verify

StepProgress = Callable[[str, int, int], None]  # (step label, done, total)
OUTCOMES = ("passed", "failed", "aborted")


@dataclass(frozen=True, slots=True)
class WipeResult:
    """The whole story of one sanitization; `to_dict()` is the JSON the CLI prints and stores."""

    target: str
    size_bytes: int
    plan: Plan
    outcome: str  # passed | failed | aborted
    reason: str
    started_at: datetime
    ended_at: datetime
    steps: tuple[OverwriteResult | FirmwareResult, ...] = ()
    verification: VerificationResult | None = None
    errors: tuple[dict[str, Any], ...] = ()
    hidden_areas: HiddenAreas | None = None
    verification_method: str = ""
    device_gone: bool = False  # the device vanished mid-run (pulled, detached): not a media fault
    # The last overwrite pattern (with its key): lets a post-wipe scan skip what the wipe wrote.
    # Never serialized: `to_dict` names the key only by `key_id`.
    final_pattern: Pattern | None = field(default=None, repr=False, compare=False)

    @property
    def bytes_written(self) -> int:
        """Bytes the overwrite passes wrote (firmware erases write nothing from the host)."""
        return sum(s.bytes_written for s in self.steps if isinstance(s, OverwriteResult))

    def to_dict(self) -> dict[str, Any]:
        """JSON form: target, plan, steps, bytes_written, errors, verification, outcome."""
        ver = self.verification
        verification = ver.to_dict() if ver else {
            "method": self.verification_method or "none", "coverage": 0.0, "mismatches": [],
            "outcome": "not run",
        }  # fmt: skip
        return {
            "target": self.target,
            "size_bytes": self.size_bytes,
            "plan": self.plan.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "bytes_written": self.bytes_written,
            "errors": list(self.errors),
            "verification": verification,
            "hidden_areas": self.hidden_areas.to_dict() if self.hidden_areas else None,
            "outcome": self.outcome,
            "reason": self.reason,
            "device_gone": self.device_gone,
            "started_at": self.started_at.isoformat().replace("+00:00", "Z"),
            "ended_at": self.ended_at.isoformat().replace("+00:00", "Z"),
            "duration_s": round((self.ended_at - self.started_at).total_seconds(), 3),
        }


@dataclass
class _Run:
    """Mutable state while the plan runs."""

    plan: Plan
    path: str
    size: int = 0
    steps: list[OverwriteResult | FirmwareResult] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    verification: VerificationResult | None = None
    outcome: str = "passed"
    reason: str = ""
    pattern: Pattern | None = None
    device_gone: bool = False

    def fail(self, reason: str, outcome: str = "failed") -> None:
        if self.outcome == "passed":
            self.outcome, self.reason = outcome, reason


def sanitize(
    path: str,
    plan: Plan,
    *,
    verify_method: str = "sample",
    seed: int | None = None,
    hidden: HiddenAreas | None = None,
    pattern_secret: bytes | None = None,
    on_progress: StepProgress | None = None,
    cancel: threading.Event | None = None,
) -> WipeResult:
    """Carry out `plan` on `path` and verify it.

    Args:
        path: block device or image file.
        plan: from `wipe.plan.choose`.
        seed: the sample verification's seed (drawn from the OS when None).
        on_progress: called with (step label, done, total).
        cancel: when set, the running step stops and the result is `aborted`.
        verify_method: `sample` or `full` read-back after an overwrite; a firmware erase is
            always checked with markers plus a sample (plus a full read when `full` and the
            method promises zeros or ones).
        hidden: HPA/DCO state found (and perhaps removed) before; the result says whether the
            wipe covered it.
        pattern_secret: derive random passes' keys from this secret (see `Pattern.named`), so
            a caller that keeps it can regenerate what the wipe wrote (`final_pattern`); None
            draws fresh keys.

    Raises:
        GuardRefusal: the guard refused the target (nothing was written).
        TargetBusy: someone else holds the target open.
    """
    started = datetime.now(UTC)
    run = _Run(plan, path)
    if plan.method == DESTROY:
        run.fail(f"not sanitized: {plan.reason}")
    else:
        with open_target(path) as target:
            run.size = target.size
            try:
                if plan.passes:
                    _overwrite(
                        run, target, verify_method, seed, pattern_secret, on_progress, cancel
                    )
                else:
                    _firmware(run, target, verify_method, on_progress, cancel)
            except DeviceGone as e:
                run.errors.append({"step": "device", "message": str(e)})
                run.device_gone = True
                run.fail(str(e))
    if hidden is not None:
        hidden = after_wipe(hidden, run.size if run.outcome == "passed" else 0)
        if hidden.status in ("present", "could-not-be-removed"):
            run.fail(f"hidden area not sanitized: {hidden.detail}")
    return WipeResult(
        target=path,
        size_bytes=run.size,
        plan=plan,
        outcome=run.outcome,
        reason=run.reason,
        started_at=started,
        ended_at=datetime.now(UTC),
        steps=tuple(run.steps),
        verification=run.verification,
        errors=tuple(run.errors),
        hidden_areas=hidden,
        verification_method=_verification_kind(plan, verify_method),
        device_gone=run.device_gone,
        final_pattern=run.pattern,
    )


def _overwrite(
    run: _Run,
    target: Target,
    verify_method: str,
    seed: int | None,
    secret: bytes | None,
    on_progress: StepProgress | None,
    cancel: threading.Event | None,
) -> None:
    patterns = [Pattern.named(name, secret, i) for i, name in enumerate(run.plan.passes)]
    run.pattern = patterns[-1]
    for i, pattern in enumerate(patterns, 1):
        label = f"pass {i}/{len(patterns)} {pattern.name}"
        result = overwrite(
            target, pattern, on_progress=_labelled(label, on_progress), cancel=cancel
        )
        run.steps.append(result)
        run.errors.extend(_range_errors(label, result.io_errors))
        if result.aborted:
            run.fail(f"interrupted during {label}", "aborted")
            return
        if result.io_errors:
            bad = sum(r.length for r in result.io_errors)
            first = result.io_errors[0]
            why = " ".join(w for w in (first.to_dict().get("error"), first.message) if w)
            run.fail(
                f"{bad} bytes could not be written in {label} ({len(result.io_errors)} ranges, "
                f"first at byte {first.offset}: {why or 'error'})"
            )
            return
    run.verification = verify(
        target,
        patterns[-1],
        method=verify_method,
        seed=seed,
        on_progress=_labelled(f"verify {verify_method}", on_progress),
        cancel=cancel,
    )
    _judge(run, run.verification)


def _firmware(
    run: _Run,
    target: Target,
    verify_method: str,
    on_progress: StepProgress | None,
    cancel: threading.Event | None,
) -> None:
    spec = run.plan.firmware
    assert spec is not None
    cls = next(c for c in SANITIZERS if c.family == spec.family)
    sanitizer = cls(run.path)
    evidence = plant_markers(target)
    try:
        result = sanitizer.run(
            spec.name, on_progress=_labelled(spec.name, on_progress), cancel=cancel
        )
    except WipeError as e:
        run.steps.append(
            FirmwareResult(
                run.path,
                spec.name,
                spec.technique,
                tuple(sanitizer.commands),
                0.0,
                "failed",
                str(e),
            )
        )
        run.errors.append({"step": spec.name, "message": str(e)})
        run.fail(str(e))
        return
    run.steps.append(result)
    if result.outcome == "aborted":
        run.fail(f"interrupted while waiting for {spec.name}", "aborted")
        return
    expected = run.plan.expected or spec.expected
    if expected in ("zeros", "ones"):
        run.pattern = Pattern.named(expected)
    run.verification = check_erase(
        target, evidence, expected,
        on_progress=_labelled("verify markers", on_progress), cancel=cancel,
    )  # fmt: skip
    if verify_method == "full" and expected in ("zeros", "ones") and run.verification.passed:
        run.verification = verify(
            target, Pattern.named(expected), method="full",
            on_progress=_labelled("verify full", on_progress), cancel=cancel,
        )  # fmt: skip
    _judge(run, run.verification)


def final_pattern(plan: Plan, pattern_secret: bytes | None) -> Pattern | None:
    """What a passed run of `plan` left on the device, when it is known without the run.

    The last overwrite pass (a random one only when its key was derived from
    `pattern_secret`), or the zeros/ones a firmware method promises; None otherwise.
    """
    if plan.passes:
        last = plan.passes[-1]
        if last == "random" and pattern_secret is None:
            return None
        return Pattern.named(last, pattern_secret, len(plan.passes) - 1)
    expected = plan.expected or (plan.firmware.expected if plan.firmware else "")
    return Pattern.named(expected) if expected in ("zeros", "ones") else None


def _judge(run: _Run, ver: VerificationResult) -> None:
    if ver.aborted:
        run.fail("interrupted during verification", "aborted")
    elif ver.read_errors:
        run.errors.extend(_range_errors("verify", ver.read_errors))
        run.fail(f"verification could not read {len(ver.read_errors)} ranges")
    elif ver.mismatched_bytes:
        first = ver.mismatches[0]
        extra = f" ({'; '.join(ver.notes)})" if ver.notes else ""
        if ver.expected in ("any", "changed"):
            # A marker check: the mismatched ranges still hold what they held before the erase.
            found = f"{ver.mismatched_bytes} bytes in {len(ver.mismatches)} ranges still hold "
            found += "what was there before the erase"
        else:
            found = f"expected {ver.expected}, {ver.mismatched_bytes} bytes differ in "
            found += f"{len(ver.mismatches)} ranges"
        run.fail(f"verification failed on {run.path} at byte {first.offset}: {found}{extra}")


def _verification_kind(plan: Plan, verify_method: str) -> str:
    if plan.passes:
        return verify_method
    return "none" if plan.method == DESTROY else "markers"


def _range_errors(step: str, ranges: tuple[FaultRange, ...]) -> list[dict[str, Any]]:
    return [{"step": step, **r.to_dict()} for r in ranges]


def _labelled(label: str, callback: StepProgress | None) -> Callable[[int, int], None] | None:
    if callback is None:
        return None
    return lambda done, total: callback(label, done, total)
