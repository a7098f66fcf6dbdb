"""The state machine is data: every state is covered and the flow's order is enforced."""

from __future__ import annotations

import pytest

from asset_pipeline.errors import TransitionNotAllowed
from asset_pipeline.flow.lifecycle import advance
from asset_pipeline.flow.states import FINAL, TRANSITIONS, State, allowed
from asset_pipeline.storage import Device


def test_every_state_has_its_transitions() -> None:
    assert set(TRANSITIONS) == set(State)


def test_final_states_lead_nowhere() -> None:
    for state in FINAL:
        assert TRANSITIONS[state] == frozenset()


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (State.REGISTERED, State.CERTIFIED),  # no certificate without the steps between
        (State.SANITIZING, State.POST_SCANNED),  # no post-scan before verification
        (State.VERIFIED, State.CERTIFIED),  # no certificate before the post-scan
        (State.FAILED, State.CERTIFIED),
        (State.ABORTED, State.CERTIFIED),
        (State.CERTIFIED, State.SANITIZING),
    ],
)
def test_skipping_a_step_is_not_allowed(current: State, to: State) -> None:
    assert not allowed(current, to)


def test_certified_only_from_post_scanned() -> None:
    assert [s for s in State if allowed(s, State.CERTIFIED)] == [State.POST_SCANNED]


def test_advance_refuses_before_touching_the_device(station) -> None:
    with station.session() as session:
        device = Device(path="/dev/null", state=State.SANITIZING.value)
        session.add(device)
        session.flush()
        with pytest.raises(TransitionNotAllowed, match="can't go to certified when in sanitizing"):
            advance(session, station, device, State.CERTIFIED)
        assert device.state == "sanitizing"
