"""The library: plan(), apply(), rollback(). The CLI only parses, calls and renders.

Data flows one way: paths → Desired / live state → [Change] → ordered → Plan → files →
apply (locks → stale check → execute + record state). Postgres statements and the state rows
commit in one transaction; the Redis part runs inside that transaction's window, before the
commit, and is reverted step by step if anything after it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler import desired as desired_mod
from reconciler.apply import outcome, rollback_plan
from reconciler.apply.recorded import (
    ApplyResult,
    Log,
    PartialApply,
    execute,
    fingerprints,
    is_server_or_file_error,
    record,
)
from reconciler.apply.rollback_record import RollbackRecorder
from reconciler.apply.timeouts import Timeouts
from reconciler.errors import InputError, Refused, StalePlan
from reconciler.ops.base import DESTRUCTIVE
from reconciler.plan import Plan
from reconciler.plan.files import document, file_key, read_plan, sha256, verify_files, write_plan
from reconciler.planner import (
    LARGE_ROWS,
    Live,
    check_saved,
    inventory_of,
    make_plan,
    open_targets,
    plan_targets,
    read_live,
    state_for,
    unused_version,
)
from reconciler.state.base import ApplyRecord


@dataclass
class PlanResult:
    plan: Plan
    json_path: Path | None = None


def _require_target(pg_url: str | None, redis_url: str | None) -> None:
    if not pg_url and not redis_url:
        raise InputError(
            "No server given.",
            detail="Pass --pg URL and/or --redis URL (or set RECONCILER_PG_URL / "
            "RECONCILER_REDIS_URL), or start the embedded ones with `reconciler dev up`.",
        )


def plan(
    pg_url: str | None,
    schemas_dir: Path,
    *,
    out_dir: Path | None,
    redis_url: str | None = None,
    progress: Callable[[int], None] | None = None,
    drop_mode: str = "auto",
    large_rows: int = LARGE_ROWS,
    only: tuple[str, ...] = (),
) -> PlanResult:
    _require_target(pg_url, redis_url)
    _check_drop_mode(drop_mode)
    tree = desired_mod.read_tree(schemas_dir)
    # Bad YAML is refused before any connection. Files a load already accepted as they are
    # need no load before the catalog is read: an unchanged catalog may settle the plan.
    want = None if tree.cached() else desired_mod.load(tree)
    with open_targets(pg_url, redis_url, command="plan") as t:
        p = plan_targets(t, tree, want, progress, drop_mode, large_rows, only)
        if not p.empty and out_dir is not None:
            try:
                p = unused_version(p, state_for(t))
            except Exception as exc:  # a role that may not read the state plans all the same;
                if not is_server_or_file_error(exc):  # a clash is refused at apply
                    raise
    if p.empty or out_dir is None:
        return PlanResult(p)
    p, path = write_plan(p, out_dir)
    return PlanResult(p, path)


DROP_MODES = ("auto", "quarantine", "drop")  # what each keeps: reconciler/trash.py


def _check_drop_mode(mode: str) -> None:
    # Checked here, before any connection and without importing the planner.
    if mode not in DROP_MODES:
        raise InputError(f"Unknown --drop-mode {mode!r}; use one of {', '.join(DROP_MODES)}.")


def check_destructive(p: Plan, allow_destructive: bool) -> None:
    risky = [c for c in p.changes if DESTRUCTIVE in c.hazard_codes()]
    if risky and not allow_destructive:
        names = ", ".join(c.address for c in risky[:5]) + (" …" if len(risky) > 5 else "")
        raise Refused(
            f"The plan has {len(risky)} destructive change(s) ({names}); refusing without "
            "--allow-destructive.",
            detail="Review the drops in the plan, then re-run with --allow-destructive.",
        )


def apply(
    pg_url: str | None,
    *,
    redis_url: str | None = None,
    plan_path: Path | None = None,
    schemas_dir: Path | None = None,
    out_dir: Path = Path("plans"),
    allow_destructive: bool = False,
    lock_timeout: float = 0.0,
    timeouts: Timeouts = Timeouts(),
    confirm: Callable[[Plan], bool] | None = None,
    logs_dir: Path = Path("state/logs"),
    echo: Log | None = None,
    progress: Callable[[int], None] | None = None,
    drop_mode: str = "auto",
    large_rows: int = LARGE_ROWS,
    in_batches: bool = False,
    only: tuple[str, ...] = (),
    statements_done: Callable[[int, int], None] | None = None,
) -> ApplyResult:
    """Apply a saved plan, or plan+apply from `schemas_dir` — under every target's lock."""
    _require_target(pg_url, redis_url)
    _check_drop_mode(drop_mode)
    if (plan_path is None) == (schemas_dir is None):
        raise InputError("Give exactly one of --plan FILE or --schemas DIR.")
    if only and plan_path is not None:
        raise InputError("--target limits a new plan; a saved plan is applied whole.")
    saved = read_plan(plan_path) if plan_path else None
    want = desired_mod.load(schemas_dir) if schemas_dir is not None else None
    if saved is not None:
        verify_files(saved, plan_path.parent, direction="up")
        verify_files(saved, plan_path.parent, direction="down")
    with open_targets(pg_url, redis_url, command="apply", lock_timeout=lock_timeout) as t:
        state = state_for(t)
        notes = []
        if (found := outcome.unsettled(state)) is not None:
            outcome.settle(state, found)
            notes.append(found.sentence())
        if saved is not None:
            names = tuple(saved.target.get("redis", {}).get("config", ()))
            live = read_live(t, config_names=names, scan=False)
            p, json_path = saved, plan_path
            rec = state.get(p.version) if state.exists() else None
            if rec is not None and rec.status == "applied":
                if rec.slug != p.slug or rec.up_sha256 != sha256(document(p, "up")):
                    raise StalePlan(
                        f"Version {p.version} was already applied, by another plan "
                        f"({rec.slug}); this one was made alongside it and is not run.",
                        detail="Run `reconciler plan` again for a plan of its own version.",
                    )
                raise Refused(f"Plan {p.name} was already applied; it is not run again.")
            check_saved(p, t, live)
            if rec is not None:  # rolled back: bring back what that rollback kept
                p = _restoring(t, state, p, notes, allow_destructive)
        else:
            live = read_live(t, want=want, progress=progress)
            p, json_path = make_plan(t, want, live, drop_mode, large_rows, only), None
        if p.empty:
            return ApplyResult(p, applied=False)
        check_destructive(p, allow_destructive)
        if confirm is not None and not confirm(p):
            raise Refused("Apply cancelled; nothing was changed.")
        if json_path is None:
            p = unused_version(p, state)  # two applies in one second
            p, json_path = write_plan(p, out_dir)
        before = f"{p.live_fingerprint}|{p.redis_fingerprint}"
        up, down = document(p, "up"), document(p, "down")

        def records(after: Live, started: datetime, log_path: Path) -> None:
            state.record_apply(
                record(p, "up", before, fingerprints(after), up, down, started, log_path),
                inventory_of(after),
            )

        names = tuple(p.target.get("redis", {}).get("config", ()))
        part = PartialApply(t, state, p)
        result = execute(
            t,
            state,
            p.up_statements(),
            p,
            "up",
            records,
            names,
            timeouts,
            logs_dir,
            echo,
            undo=p.down_statements(),
            in_batches=in_batches,
            progress=statements_done,
            partial=part,
            undone=part.undone,
        )
        result.json_path = json_path
        result.notes = notes
        return result


def _restoring(t: Any, state: Any, p: Plan, notes: list[str], allow_destructive: bool) -> Plan:
    """`p`, applied again after a rollback that kept data in the trash, bringing it back. What
    a purge took since comes back empty: refused without `allow_destructive`, as a rollback
    that would bring back emptied objects is."""
    last_down = next(
        (r for r in state.history() if r.direction == "down" and r.version == p.version), None
    )
    kept = list(last_down.plan.get("kept", ())) if last_down is not None else []
    if not kept:
        return p
    if t.pg is not None:
        from reconciler import trash

        gone = trash.missing(t.pg, {k["trash"] for k in kept})
        empty = [k for k in kept if k["trash"] in gone]
        if empty and not allow_destructive:
            k = empty[0]
            raise Refused(
                f"Applying {p.version} again would bring back {k['address']} empty: its data "
                f"was kept in {trash.TRASH_SCHEMA}.{k['trash']} by the rollback, and that is "
                "gone (`reconciler trash purge`); refusing without --allow-destructive.",
                detail="Restore the data from a backup first, or pass --allow-destructive to "
                "apply it with the object empty.",
            )
        for k in empty:
            notes.append(
                f"{k['address']} comes back empty: its data was kept in "
                f"{trash.TRASH_SCHEMA}.{k['trash']}, which is gone (purged)."
            )
    return rollback_plan.with_restores(p, kept)


@dataclass
class RollbackResult:
    """What a rollback reverted (newest first), what it kept in the trash, and what a user
    must read besides: the outcome of an earlier run that ended without saying (outcome.py)."""

    done: list[ApplyRecord]
    plan: Plan | None = None  # the rollback as a plan: reverses, hazards, kept drops
    notes: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # Redis keys changed since


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
) -> RollbackResult:
    """Run down files newest first, down to and including `version` (or only the last one).

    The down steps go through the forward plan's gate (rollback_plan.py): a drop that would
    take rows or values is refused without `allow_destructive`, and with it keeps them in the
    trash, whence applying the version again brings them back."""
    _require_target(pg_url, redis_url)
    if bool(version) == bool(last):
        raise InputError("Give exactly one of --version V or --last.")
    # What --last means is read before waiting for the lock: a run that held it meanwhile
    # may have rolled that version back, and the one before it is not what was asked for.
    meant = _last_applied(pg_url, redis_url) if last else None
    with open_targets(pg_url, redis_url, command="rollback", lock_timeout=lock_timeout) as t:
        state = state_for(t)
        if not state.exists():
            raise Refused("Nothing to roll back: no apply has been recorded for this target.")
        notes, stop = _settle_rollback(state, last=last)
        if stop:
            return RollbackResult([], notes=notes)
        targets = _targets(state, version=version)
        if meant is not None and targets[0].version != meant:
            raise Refused(
                f"Version {meant}, the last applied when this rollback started, was rolled back "
                "by another run while this one waited for the lock; nothing was rolled back.",
                detail=f"The last applied version is now {targets[0].version}: run `reconciler "
                f"rollback --version {targets[0].version}` if that is the one to revert.",
            )
        plans = [Plan.from_dict(r.plan) for r in targets]
        names = tuple(
            sorted({n for p in plans for n in p.target.get("redis", {}).get("config", [])})
        )
        live = read_live(t, config_names=names, scan=False)
        if fingerprints(live) != targets[0].fingerprint_after and not force:
            raise StalePlan(
                f"The target changed since version {targets[0].version} was applied; "
                "rolling back now could undo changes made since.",
                detail="Inspect with `reconciler plan`, or pass --force to roll back anyway.",
            )
        for rec, p in zip(targets, plans, strict=True):
            _verify_down(rec, p, plans_dir)
        back, kept = _guarded(t, rollback_plan.invert(plans), live, targets, allow_destructive)
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
        )
        return RollbackResult(targets, back, notes, ran.skipped)


def _last_applied(pg_url: str | None, redis_url: str | None) -> str | None:
    with open_targets(pg_url, redis_url, command="rollback") as t:
        state = state_for(t)
        rec = state.last_applied() if state.exists() else None
    return rec.version if rec is not None else None


def _values_kept(conn: Any, back: Plan, live: Live, allow_destructive: bool) -> Plan:
    """A rollback's column type changes tried on the live values (lossy.py): one whose cast
    fails on a value is refused; one that changes values is refused without
    `allow_destructive`, and carries the hazard with it."""
    from reconciler.lossy import FAILS, verdicts

    retyped = rollback_plan.retypes(back, live.pg)
    judged = verdicts(conn, [tc for _, tc in retyped]) if retyped else []
    if failed := [v for v in judged if v.outcome == FAILS]:
        raise Refused(f"Rolling back would fail: {failed[0].refusal()}.")
    lossy = [(c, v) for (c, _), v in zip(retyped, judged, strict=True) if v.destructive]
    if lossy and not allow_destructive:
        v = lossy[0][1]
        raise Refused(
            f"Rolling back would change data: column {v.change.schema}.{v.change.table}."
            f"{v.change.column} type {v.change.old_type} → {v.change.new_type} {v.hazard()}; "
            "refusing without --allow-destructive.",
            detail="Those values cannot be kept: check them, then pass --allow-destructive.",
        )
    return rollback_plan.with_value_hazards(back, lossy)


def _settle_rollback(state: Any, *, last: bool) -> tuple[list[str], bool]:
    """Say what became of the newest run if it ended without saying; with --last, stop
    when going on would revert a version its user did not mean: the one before a rollback
    that did commit, or the one before an apply that never did."""
    found = outcome.unsettled(state)
    if found is None:
        return [], False
    outcome.settle(state, found)
    notes = [found.sentence()]
    a = found.attempt
    moved_on = (a.direction == "down" and found.committed) or (
        a.direction == "up" and not found.committed
    )
    if last and moved_on:
        notes.append(
            "Nothing else was rolled back: `rollback --last` now would revert an older "
            "version than that run meant to; run it again if that is what you want."
        )
        return notes, True
    return notes, False


def _targets(state: Any, *, version: str | None) -> list[ApplyRecord]:
    applied = [r for r in state.history() if r.direction == "up" and r.status == "applied"]
    if version is None:
        targets = applied[:1]
    else:
        targets = [r for r in applied if r.version >= version]
        if not any(r.version == version for r in applied):
            rec = state.get(version)
            if rec is not None and rec.status == "rolled_back":
                raise Refused(f"Version {version} is already rolled back.")
            raise Refused(f"Version {version} is not an applied version of this target.")
    if not targets:
        raise Refused("Nothing to roll back: every recorded apply is already rolled back.")
    return targets


def _guarded(
    t: Any, back: Plan, live: Live, targets: list[ApplyRecord], allow_destructive: bool
) -> tuple[Plan, list[rollback_plan.Kept]]:
    """`back` with its drops of data refused, or kept in the trash when allowed."""
    if t.pg is None or live.pg is None:
        return back, []
    gone = purged(t.pg, targets)
    if gone and not allow_destructive:
        raise Refused(
            f"Rolling back would bring back {gone[0]} empty: its rows were kept in the "
            "trash, which `reconciler trash purge` has since removed; refusing without "
            "--allow-destructive.",
            detail="Restore them from a backup first, or pass --allow-destructive to roll "
            "back with the object empty.",
        )
    if clash := rollback_plan.restored_then_dropped(back):
        raise Refused(
            f"Rolling back {', '.join(r.version for r in targets)} together would bring "
            f"{clash} back from the trash and then drop it with its data; roll back one "
            "version at a time (`reconciler rollback --last`) so that each drop can be kept.",
        )
    back = _values_kept(t.pg, back, live, allow_destructive)
    found = rollback_plan.losses(t.pg, back, live.pg)
    if not found:
        return back, []
    if not allow_destructive:
        what = "; ".join(f"{x.what} holds {x.amount}" for x in found[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        lost = [x.what for x in found if not rollback_plan.keepable(x, live.pg)]
        raise Refused(
            f"Rolling back would drop data: {what}{more}; refusing without --allow-destructive.",
            detail="With --allow-destructive the rows and values are kept in reconciler_trash, "
            "and applying the version again brings them back"
            + (f", except those of {', '.join(lost)}, which cannot be kept." if lost else "."),
        )
    token = f"rollback|{back.version}|{datetime.now(UTC).isoformat()}"
    return rollback_plan.keep(back, found, live.pg, token)


def _verify_down(rec: ApplyRecord, p: Plan, plans_dir: Path) -> None:
    """Every down file that still exists must be the one recorded at apply time."""
    if document(p, "down") != rec.down_sql or sha256(rec.down_sql) != rec.down_sha256:
        raise StalePlan(f"The recorded down script of {rec.version} does not match its plan.")
    for engine in ("pg", "redis"):
        meta = p.files.get(file_key(engine, "down"))
        path = plans_dir / meta["name"] if meta else None
        if path is not None and path.exists() and sha256(path.read_text("utf-8")) != meta["sha256"]:
            raise StalePlan(
                f"The down file {path} was edited since {rec.version} was applied "
                "(checksum mismatch); refusing to run it.",
                detail="Restore the file from version control; the recorded copy is in the state.",
            )


def purged(conn: Any, targets: list[ApplyRecord]) -> list[str]:
    """The objects the targets' down steps would bring back from trash tables that are gone:
    their rows were purged, so the rollback would rebuild them empty."""
    from reconciler import trash

    refs = {
        c.address: trash.referenced("\n".join(c.down))
        for r in targets
        for c in Plan.from_dict(r.plan).changes
    }
    gone = trash.missing(conn, set().union(*refs.values()) if refs else set())
    return [
        f"{address} (from {trash.TRASH_SCHEMA}.{', '.join(sorted(names & gone))})"
        for address, names in refs.items()
        if names & gone
    ]
