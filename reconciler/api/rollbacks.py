"""The library's rollback(): a target's applies reverted, newest first, under its lock.

Owns: which versions are reverted (one, or down to one; --last read before the lock), the
checks before anything runs (nothing changed since, each down file as recorded, the forward
plan's gate on drops) and the run itself with its record.
Must not: print, prompt or exit (api/__init__.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.api.runs import _require_target
from reconciler.apply.recorded import Log, execute, fingerprints
from reconciler.apply.timeouts import Timeouts
from reconciler.errors import InputError, Refused, StalePlan
from reconciler.pipeline.planner import Live, open_targets, read_live, state_for
from reconciler.plan import Plan
from reconciler.project.config import resolve_scope
from reconciler.project.scope import EVERY_SCHEMA, Scope
from reconciler.state.base import ApplyRecord


@dataclass
class RollbackResult:
    """What a rollback reverted (newest first), what it kept in the trash, and what a user
    must read besides: the outcome of an earlier run that ended without saying
    (apply/outcome.py)."""

    done: list[ApplyRecord]
    plan: Plan | None = None  # the rollback as a plan: reverses, hazards, kept drops
    notes: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # Redis keys changed since


def _unfinished_left(live: Live, p: Plan, recorded: set[str] | None = None) -> Live:
    """`live` without the invalid indexes the plan was building concurrently when its run
    stopped (Ctrl-C, a lost connection): they are that run's own leftovers, not a change made
    since, and the rollback drops them with the rest. `recorded`: for a run recorded as
    partial, the objects its record holds; an index the plan makes that the record lacks is
    one the server finished after the run was killed (its build was begun), its own too."""
    if live.pg is None:
        return live
    made = {c.address for c in p.changes if c.action == "create" and c.kind == "index"}

    def kept(address: str, valid: bool) -> bool:
        if address not in made:
            return True
        return valid and (recorded is None or address in recorded)

    left = {k: ix for k, ix in live.pg.indexes.items() if kept(str(ix.address), ix.valid)}
    if len(left) == len(live.pg.indexes):
        return live
    return dataclasses.replace(live, pg=dataclasses.replace(live.pg, indexes=left))


def rollback(
    pg_url: str | None,
    *,
    redis_url: str | None = None,
    version: str | None = None,
    last: bool = False,
    plans_dir: Path = Path("plans"),
    lock_timeout: float = 0.0,
    timeouts: Timeouts = Timeouts(),
    force: bool = False,
    allow_destructive: bool = False,
    confirm: Callable[[Plan, list[ApplyRecord]], bool] | None = None,
    logs_dir: Path = Path("state/logs"),
    echo: Log | None = None,
    in_batches: bool = False,
    scope: Scope | None = None,
) -> RollbackResult:
    """Run down files newest first, down to and including `version` (or only the last one).

    The down steps go through the forward plan's gate (apply/rollback_plan.py): a drop that would
    take rows or values is refused without `allow_destructive`, and with it keeps them in the
    trash, whence applying the version again brings them back."""
    _require_target(pg_url, redis_url)
    if bool(version) == bool(last):
        raise InputError("Give exactly one of --version V or --last.")
    # What --last means is read before waiting for the lock: a run that held it meanwhile
    # may have rolled that version back, and the one before it is not what was asked for.
    from reconciler.apply import rollback_gate, rollback_plan  # deferred: start-up: pglast
    from reconciler.apply.rollback_record import RollbackRecorder  # deferred: start-up: pglast

    scope = resolve_scope(scope, plans_dir)
    meant = _last_applied(pg_url, redis_url) if last else None
    with open_targets(
        pg_url, redis_url, command="rollback", scope=scope, lock_timeout=lock_timeout
    ) as t:
        state = state_for(t)
        if not state.exists():
            raise Refused("Nothing to roll back: no apply has been recorded for this target.")
        notes, stop = rollback_gate.settle(state, last=last)
        if stop:
            return RollbackResult([], notes=notes)
        targets = rollback_gate.targets_of(state, version=version)
        if meant is not None and targets[0].version != meant:
            raise Refused(
                f"Version {meant}, the last applied when this rollback started, was rolled back "
                "by another run while this one waited for the lock; nothing was rolled back.",
                detail=f"The last applied version is now {targets[0].version}: run `reconciler "
                f"rollback --version {targets[0].version}` if that is the one to revert.",
            )
        plans = [Plan.from_dict(r.plan) for r in targets]
        rollback_gate.refuse_contracts(targets, plans)
        names = tuple(
            sorted({n for p in plans for n in p.target.get("redis", {}).get("config", [])})
        )
        live = read_live(t, config_names=names, scan=False)
        recorded = set(state.inventory()) if targets[0].plan.get("partial") else None
        if (
            fingerprints(_unfinished_left(live, plans[0], recorded)) != targets[0].fingerprint_after
            and not force
        ):
            raise StalePlan(
                f"The target changed since version {targets[0].version} was applied; "
                "rolling back now could undo changes made since.",
                detail="Inspect with `reconciler plan`, or pass --force to roll back anyway.",
            )
        for rec, p in zip(targets, plans, strict=True):
            rollback_gate.verify_down(rec, p, plans_dir)
        back, kept = rollback_gate.guarded(
            t, rollback_plan.invert(plans), live, targets, allow_destructive
        )
        if confirm is not None and not confirm(back, targets):
            raise Refused("Rollback cancelled; nothing was changed.")

        recorder = RollbackRecorder(t, state, targets, plans, back, kept, names)
        # Named after the oldest version reverted: the state the target returns to.
        ran = execute(
            t,
            state,
            back.up_statements(),
            back,
            "down",
            recorder.final,
            names,
            timeouts,
            logs_dir,
            echo,
            in_batches=in_batches,
            partial=recorder.batch,
            not_deleted=rollback_gate.not_deleted(state, targets),
        )
        return RollbackResult(targets, back, notes, ran.skipped)


def _last_applied(pg_url: str | None, redis_url: str | None) -> str | None:
    with open_targets(pg_url, redis_url, command="rollback", scope=EVERY_SCHEMA) as t:
        state = state_for(t)  # the state alone: nothing is read under a scope
        rec = state.last_applied() if state.exists() else None
    return rec.version if rec is not None else None
