"""Recording a rollback as it commits: whole at the end, or batch by batch.

A rollback in several transactions (`--in-batches`) reverts part of its versions with each
batch. Should it stop between two batches (kill -9, Ctrl-C, a failure), what committed must
be recorded, or the state would say applied what is gone. So inside each batch's transaction
every version with changes newly reverted is marked rolled back with a down row for that part,
and what is left of it is recorded again as an apply marked partial: `rollback --last` then
goes on with exactly the rest. The last transaction records the rest the same way.

Must not: run anything but the state's writes and the read of the live state they record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from reconciler.apply.recorded import fingerprints, record
from reconciler.apply.rollback_plan import Kept
from reconciler.pipeline.planner import Live, Targets, inventory_of, read_live
from reconciler.plan import Plan, PlannedChange
from reconciler.plan.files import document
from reconciler.state.base import ApplyRecord


@dataclass
class RollbackRecorder:
    """The versions a rollback reverts (newest first, with their plans), the rollback as a
    plan (`back`: their reverses, in the order they run) and what it keeps in the trash."""

    t: Targets
    state: Any
    targets: list[ApplyRecord]
    plans: list[Plan]
    back: Plan
    kept: list[Kept]
    names: tuple[str, ...] = ()
    # which version (index into targets) and change each change of `back` reverts
    _origin: list[tuple[int, PlannedChange]] = field(default_factory=list)
    _reverted: set[int] = field(default_factory=set)  # ids of `back` changes recorded
    _current: list[ApplyRecord] = field(default_factory=list)  # the applied row of each

    def __post_init__(self) -> None:
        self._origin = [(i, c) for i, p in enumerate(self.plans) for c in reversed(p.changes)]
        assert len(self._origin) == len(self.back.changes)
        self._current = list(self.targets)

    def batch(
        self,
        ran: frozenset[int],
        k: int,
        n: int,
        started: datetime,
        log_path: Path,
        finished: frozenset[int] = frozenset(),
    ) -> None:
        """Inside batch k's transaction: record what the batches so far reverted (`finished`,
        what of it has nothing left to run, is not told apart: a rollback has no online step)."""
        after = read_live(self.t, config_names=self.names, scan=False)
        self._record(ran, after, started, log_path)

    def final(self, after: Live, started: datetime, log_path: Path) -> None:
        """Inside the last transaction: everything reverted."""
        self._record(frozenset(id(c) for c in self.back.changes), after, started, log_path)

    def _record(self, ran: frozenset[int], after: Live, started: datetime, log_path: Path) -> None:
        new: dict[int, list[PlannedChange]] = {}
        for c, (i, original) in zip(self.back.changes, self._origin, strict=True):
            if id(c) in ran and id(c) not in self._reverted:
                new.setdefault(i, []).append(original)
        if not new:
            return
        now, inv = fingerprints(after), inventory_of(after)
        for i, reverted in sorted(new.items()):
            rec, plan = self._current[i], Plan.from_dict(dict(self._current[i].plan))
            gone = {c.address + "\0" + "\n".join(c.up) for c in reverted}
            part = replace(plan, changes=tuple(c for c in plan.changes if _key(c) in gone))
            rest = replace(plan, changes=tuple(c for c in plan.changes if _key(c) not in gone))
            mine = [k.to_dict() for k in self.kept if k.address in {c.address for c in reverted}]
            plan_dict = {**part.to_dict(), **({"kept": mine} if mine else {})}
            down = record(
                part,
                "down",
                rec.fingerprint_after or "",
                now,
                document(part, "up"),
                document(part, "down"),
                started,
                log_path,
                plan_dict,
            )
            self.state.mark_rolled_back(rec.version, down, inv)
            if rest.changes:
                self._current[i] = self._partial(rec, rest, now, started, log_path, inv)
        self._reverted |= {id(c) for c in self.back.changes if id(c) in ran}

    def _partial(
        self,
        rec: ApplyRecord,
        rest: Plan,
        now: str,
        started: datetime,
        log_path: Path,
        inv: dict[str, Any],
    ) -> ApplyRecord:
        """What is left of a version once part of it was reverted: still applied, partial."""
        up, down = document(rest, "up"), document(rest, "down")
        again = record(rest, "up", rec.fingerprint_before or "", now, up, down, started, log_path)
        before = rec.plan.get("partial") or {}
        whole = before.get("of_changes", len(rec.plan.get("changes", ())))
        # batch/of: those of the apply that made it, when it was itself partial
        partial = {
            "batch": before.get("batch", 1),
            "of": before.get("of", 1),
            "changes": len(rest.changes),
            "of_changes": whole,
        }
        again = replace(again, plan={**again.plan, "partial": partial})
        self.state.record_apply(again, inv)
        return again


def _key(c: PlannedChange) -> str:
    # A change of a plan, recognised again in the plan read back from the state.
    return c.address + "\0" + "\n".join(c.up)
