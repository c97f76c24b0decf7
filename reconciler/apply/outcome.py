"""What became of a run whose process could not say: read from the state, never assumed.

An apply or rollback records an attempt before it starts, and its result (the apply row) in
the transaction of the change. A process killed around its COMMIT leaves a run whose user
never learnt whether it committed; a retry that assumed either answer could act twice (roll
back one version too many) or not at all. So every run ends by writing a 'settled' event
right after its result is known, and the next apply or rollback first settles the newest
attempt that has none: it reads the recorded outcome, says it in one sentence, and writes
the event, so each such run is reported exactly once.

Must not: change anything but the attempt's own row and the audit events.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from reconciler.state.base import Attempt

SETTLED = "settled"  # event kind: the outcome of attempt `detail.attempt` was told
_RECENT_EVENTS = 200  # a run writes a handful of events; its 'settled' one is among these


@dataclass(frozen=True, slots=True)
class Outcome:
    """The newest run of a target that ended without telling its outcome."""

    attempt: Attempt
    committed: bool
    partial: dict[str, Any] | None  # an apply whose batches committed in part: batch, of

    @property
    def what(self) -> str:
        verb = "apply" if self.attempt.direction == "up" else "rollback"
        at = self.attempt.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"The {verb} of version {self.attempt.version} started {at}"

    def sentence(self) -> str:
        v = self.attempt.version
        if self.partial is not None and self.attempt.direction == "down":
            return (
                f"{self.what} was interrupted after {self.partial['batch']} of its "
                f"{self.partial['of']} batches committed; what they reverted is recorded as "
                "rolled back and the rest stays applied (`reconciler rollback --last` goes on "
                "with it)."
            )
        if self.partial is not None:
            return (
                f"{self.what} was interrupted after {self.partial['batch']} of its "
                f"{self.partial['of']} batches committed; they are recorded as a partial apply "
                f"of {v} (`reconciler rollback --version {v}` undoes exactly them)."
            )
        if not self.committed:
            undone = "applied" if self.attempt.direction == "up" else "reverted"
            return f"{self.what} was interrupted before it committed: nothing of it was {undone}."
        state = "applied" if self.attempt.direction == "up" else "rolled back"
        return f"{self.what} committed before it was interrupted: {v} is {state}."


def found(state: Any, a: Attempt) -> Outcome:
    """What the recorded applies say became of attempt `a`. The newest 'up' row of its
    version tells both directions: an apply committed when it is 'applied' (in part, when
    its plan says 'partial'), a rollback when it is 'rolled_back'."""
    rec = state.get(a.version)
    if rec is None:
        return Outcome(a, False, None)
    if a.direction == "down":
        done = rec.status == "rolled_back"
        return Outcome(a, done, None if done else _batches(state, a))
    partial = rec.plan.get("partial") if rec.status == "applied" else None
    return Outcome(a, rec.status == "applied", partial)


def _batches(state: Any, a: Attempt) -> dict[str, Any] | None:
    """The last batch the run of `a` committed, from the events each batch writes with it."""
    for e in state.events(_RECENT_EVENTS):
        if e.kind == "batch-committed" and e.version == a.version and e.at >= a.started_at:
            return dict(e.detail)
    return None


def wait_gone(conn: Any, pid: int, timeout: float = 10.0) -> None:
    """Wait until server process `pid` has ended: a COMMIT it was running is then decided."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_stat_activity WHERE pid = %s)", (pid,)
        ).fetchone()
        if not row[0]:
            return
        time.sleep(0.05)


def unsettled(state: Any) -> Outcome | None:
    """The newest attempt, when it ended without telling (interrupted, or succeeded with
    no 'settled' event after it). Call it under the lock: a 'running' attempt is then dead."""
    if not state.exists():
        return None
    attempts = state.attempts(1)
    if not attempts:
        return None
    a = attempts[0]
    if a.status == "failed":
        return None  # its process said what happened, then recorded it
    if a.status == "succeeded":
        settled = [e for e in state.events(_RECENT_EVENTS) if e.kind == SETTLED]
        if any(e.detail.get("attempt") == a.id for e in settled):
            return None
        if not settled and len(state.attempts(2)) > 1:
            return None  # a state recorded before runs settled their outcome
    return found(state, a)


def settle(state: Any, outcome: Outcome) -> None:
    """Record that `outcome` was told: the attempt row says what came of it."""
    a = outcome.attempt
    if a.status in ("running", "interrupted"):
        # A 'running' row whose process is gone. 'failed' is the row's only other end state
        # for a run that did not finish; the error says which part, if any, committed.
        note = outcome.sentence()
        state.finish_attempt(a.id, status="failed", error=f"interrupted: {note}")
    state.record_event(SETTLED, a.version, {"attempt": a.id, "told": outcome.sentence()})


def told(state: Any, attempt_id: int, version: str) -> None:
    """The run's own process knows and says its outcome: nothing is left to settle."""
    state.record_event(SETTLED, version, {"attempt": attempt_id})
