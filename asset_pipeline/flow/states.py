"""A device's states in the pipeline and the transitions allowed between them, as data.

The flow (DESIGN.md): detected -> identified -> guarded -> registered -> pre_scanned ->
sanitizing -> verified -> post_scanned -> certified. Any step may end in failed or aborted;
a failed device goes to destruction_pending and, once the operator records it, destroyed.
`pre_scanned` is skipped when the agreement does not instruct discovery.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where a device is; stored as its string value in `device.state`."""

    DETECTED = "detected"
    IDENTIFIED = "identified"
    GUARDED = "guarded"
    REGISTERED = "registered"
    PRE_SCANNED = "pre_scanned"
    SANITIZING = "sanitizing"
    VERIFIED = "verified"
    POST_SCANNED = "post_scanned"
    CERTIFIED = "certified"
    FAILED = "failed"
    ABORTED = "aborted"
    DESTRUCTION_PENDING = "destruction_pending"
    DESTROYED = "destroyed"


S = State
_ENDINGS = frozenset({S.FAILED, S.ABORTED})

TRANSITIONS: dict[State, frozenset[State]] = {
    S.DETECTED: frozenset({S.IDENTIFIED}) | _ENDINGS,
    S.IDENTIFIED: frozenset({S.GUARDED}) | _ENDINGS,
    S.GUARDED: frozenset({S.REGISTERED}) | _ENDINGS,
    # Discovery only when the agreement instructs it; otherwise straight to sanitizing.
    S.REGISTERED: frozenset({S.PRE_SCANNED, S.SANITIZING}) | _ENDINGS,
    S.PRE_SCANNED: frozenset({S.SANITIZING}) | _ENDINGS,
    # Re-entering sanitizing repeats an interrupted wipe after a crash (resume).
    S.SANITIZING: frozenset({S.VERIFIED, S.SANITIZING}) | _ENDINGS,
    S.VERIFIED: frozenset({S.POST_SCANNED}) | _ENDINGS,
    S.POST_SCANNED: frozenset({S.CERTIFIED}) | _ENDINGS,
    S.CERTIFIED: frozenset(),
    S.FAILED: frozenset({S.DESTRUCTION_PENDING}),
    # An aborted device (pulled, interrupted) may be plugged back and start over.
    S.ABORTED: frozenset({S.DETECTED, S.DESTRUCTION_PENDING}),
    S.DESTRUCTION_PENDING: frozenset({S.DESTROYED}),
    S.DESTROYED: frozenset(),
}

# States whose step may have been cut short by a crash: resume must repeat or fail them.
UNFINISHED = frozenset(
    {
        S.DETECTED,
        S.IDENTIFIED,
        S.GUARDED,
        S.REGISTERED,
        S.PRE_SCANNED,
        S.SANITIZING,
        S.VERIFIED,
        S.POST_SCANNED,
    }
)
FINAL = frozenset({S.CERTIFIED, S.DESTROYED})


def allowed(current: State, to: State) -> bool:
    """True when `current -> to` is a transition of the pipeline."""
    return to in TRANSITIONS[current]
