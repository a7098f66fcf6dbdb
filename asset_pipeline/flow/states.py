"""A device's states in the pipeline and the transitions allowed between them, as data.

The flow (DESIGN.md): detected -> identified -> guarded -> registered -> pre_scanned ->
sanitizing -> verified -> post_scanned -> certified. Any step may end in failed or aborted;
a failed or aborted device may be destroyed (a certificate of destruction), and one whose plan
ends in destroy waits for that in destruction_pending. `pre_scanned` is skipped when the
agreement does not instruct discovery. `lifecycle.advance` is the only writer of a state; this
module only says which moves exist.
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
    # A failed device is destroyed (recorded with `cert destroy`), or waits for it first when
    # its plan ended in destroy (DESTROY_PLAN_ENDING).
    S.FAILED: frozenset({S.DESTRUCTION_PENDING, S.DESTROYED}),
    # An aborted device (pulled, interrupted) may be plugged back and start over.
    S.ABORTED: frozenset({S.DETECTED, S.DESTRUCTION_PENDING, S.DESTROYED}),
    S.DESTRUCTION_PENDING: frozenset({S.DESTROYED}),
    S.DESTROYED: frozenset(),
}
# The only way into the table: a device seen for the first time.
INITIAL = S.DETECTED

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
# Where a run of the pipeline stops: certified, or an ending.
RESTING = frozenset(State) - UNFINISHED
# States from which a device may be destroyed: whatever the table lets reach DESTROYED.
DESTROYABLE = frozenset(s for s, next_states in TRANSITIONS.items() if S.DESTROYED in next_states)
# A plan that ends in destroy is not a failure to retry: the device fails, then waits for its
# physical destruction.
DESTROY_PLAN_ENDING = (S.FAILED, S.DESTRUCTION_PENDING)

# The step a device in each unfinished state is running (a state names the last step done), for
# the reason of an interruption: a drive pulled in `verified` was pulled during its post-scan.
DOING = {
    S.DETECTED: "identify",
    S.IDENTIFIED: "guard",
    S.GUARDED: "register",
    S.REGISTERED: "pre-scan",
    S.PRE_SCANNED: "sanitizing",
    S.SANITIZING: "sanitizing",
    S.VERIFIED: "post-scan",
    S.POST_SCANNED: "certify",
}


def allowed(current: State | None, to: State) -> bool:
    """True when `current -> to` is a transition of the pipeline (None: a new device)."""
    if current is None:
        return to is INITIAL
    return to in TRANSITIONS[current]
