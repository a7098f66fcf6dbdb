"""One owner of device state: transitions as data, claims that name one process for ever."""

from __future__ import annotations

import subprocess

import pytest

from asset_pipeline.errors import TransitionNotAllowed
from asset_pipeline.flow import lifecycle
from asset_pipeline.flow.states import DESTROYABLE, DOING, RESTING, TRANSITIONS, UNFINISHED, State
from asset_pipeline.storage import Device


def test_destruction_is_reached_only_from_failed_aborted_or_pending() -> None:
    assert {State.FAILED, State.ABORTED, State.DESTRUCTION_PENDING} == DESTROYABLE
    assert [s for s in State if State.DESTROYED in TRANSITIONS[s]] == sorted(
        DESTROYABLE, key=list(State).index
    )


def test_every_unfinished_state_names_the_step_it_runs() -> None:
    assert set(DOING) == UNFINISHED
    assert frozenset(State) - UNFINISHED == RESTING


def test_a_new_device_may_only_become_detected(station) -> None:
    with station.session() as session:
        device = Device(path="/dev/null", state="")
        session.add(device)
        session.flush()
        event = lifecycle.advance(session, station, device, State.DETECTED)
        assert (device.state, event.event_type) == ("detected", "device.detected")
        fresh = Device(path="/dev/zero", state="")
        session.add(fresh)
        session.flush()
        with pytest.raises(TransitionNotAllowed, match="can't go to registered when in no state"):
            lifecycle.advance(session, station, fresh, State.REGISTERED)


def _claimed_by(command: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    """A live process of any kind, and the claim it would have written."""
    proc = subprocess.Popen(command)
    host, boot, _pid, _start = lifecycle.worker_id().split(":")  # this host and boot
    with open(f"/proc/{proc.pid}/stat") as f:
        start = f.read().rpartition(")")[2].split()[19]
    return proc, f"{host}:{boot}:{proc.pid}:{start}"


def test_a_claim_is_alive_while_its_process_runs_whatever_the_process() -> None:
    """No command-line test: a claim by any live process holds, one by a dead process does not."""
    proc, claim = _claimed_by(["sleep", "30"])
    try:
        assert lifecycle.claim_is_alive(Device(claimed_by=claim))
    finally:
        proc.kill()
        proc.wait()
    assert not lifecycle.claim_is_alive(Device(claimed_by=claim))


def test_a_reused_pid_does_not_inherit_a_claim() -> None:
    proc, claim = _claimed_by(["sleep", "30"])
    try:
        host, boot, pid, start = claim.split(":")
        # The same pid with another start time is another process (the pid was recycled).
        recycled = f"{host}:{boot}:{pid}:{int(start) - 1}"
        assert not lifecycle.claim_is_alive(Device(claimed_by=recycled))
        # A claim from before this machine's last boot is dead whatever runs under its pid now.
        assert not lifecycle.claim_is_alive(Device(claimed_by=f"{host}:00000000:{pid}:{start}"))
    finally:
        proc.kill()
        proc.wait()


def test_own_claim_is_alive_and_another_hosts_is_respected() -> None:
    assert lifecycle.claim_is_alive(Device(claimed_by=lifecycle.worker_id()))
    assert lifecycle.claim_is_alive(Device(claimed_by="other-station:abcd1234:1:1"))
    assert not lifecycle.claim_is_alive(Device(claimed_by=""))
