"""The library: plan(), apply(), rollback(). The CLI only parses, calls and renders.

Data flows one way: paths → Desired / live state → [Change] → ordered → Plan → files →
apply (locks → stale check → execute + record state). Postgres statements and the state rows
commit in one transaction; the Redis part runs inside that transaction's window, before the
commit, and is reverted step by step if anything after it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import desired as desired_mod
from reconciler.apply.timeouts import Timeouts
from reconciler.desired.findings import Finding
from reconciler.errors import InputError, Refused, StalePlan, StateDenied
from reconciler.model.words import counted
from reconciler.ops.base import DESTRUCTIVE
from reconciler.pipeline.opening import open_or_read
from reconciler.pipeline.planner import (
    LARGE_ROWS,
    Live,
    check_saved,
    inventory_of,
    make_plan,
    open_targets,
    read_live,
    state_for,
    unused_version,
)
from reconciler.pipeline.tree_plan import lint_findings, plan_remembered, plan_targets
from reconciler.plan import Plan
from reconciler.plan.files import (
    document,
    read_plan,
    sha256,
    verify_files,
    write_plan,
)
from reconciler.plan.pending import save_plan
from reconciler.project.config import resolve_scope
from reconciler.project.scope import Scope

if TYPE_CHECKING:
    from reconciler.apply.recorded import ApplyResult, Log


@dataclass
class PlanResult:
    plan: Plan
    json_path: Path | None = None
    reused: bool = False  # json_path is an identical pending plan already in the folder


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
    scope: Scope | None = None,
    on_lint: Callable[[list[Finding]], None] | None = None,
) -> PlanResult:
    """`scope`: the schemas left out (None: those the reconciler.yaml of the project holding
    `schemas_dir` leaves out, found upwards from it, else the current directory's; `Scope()`
    leaves none out). `on_lint` is given the files' lint findings before the plan is made."""
    _require_target(pg_url, redis_url)
    _check_drop_mode(drop_mode)
    tree = desired_mod.read_tree(schemas_dir)
    # A Postgres-only plan reads the files while the server reads its catalog; any other is
    # refused for bad YAML before it connects. Files a load already accepted as they are need
    # no load before the catalog is read: an unchanged catalog may settle the plan.
    alongside = bool(pg_url) and not redis_url and tree.key is not None
    read_before = tree.cached()  # accepted by a load before: nothing in them to report
    want = None if alongside or read_before else desired_mod.load(tree)
    with ExitStack() as stack:
        try:
            scoped = resolve_scope(scope, schemas_dir)

            if alongside and read_before:
                assert pg_url is not None
                if (known := plan_remembered(pg_url, scoped, tree, on_lint)) is not None:
                    return PlanResult(known)  # the catalog read ahead settled it

            def opening() -> Any:
                return open_targets(pg_url, redis_url, command="plan", scope=scoped)

            if alongside and not read_before:  # the files may hold a mistake
                t, want = open_or_read(stack, opening, lambda: desired_mod.load(tree))
            else:
                t = stack.enter_context(opening())
        except Exception:
            # A mistake in the files is said before the server's failure, and their lint
            # with it, as when they were read before connecting.
            checked = want or desired_mod.load(tree)
            if on_lint is not None:
                on_lint(lint_findings(tree, checked))
            raise
        p = plan_targets(t, tree, want, progress, drop_mode, large_rows, only, on_lint)
        if p.empty or out_dir is None:
            return PlanResult(p)
        try:
            state = state_for(t)
            p = unused_version(p, state)
            known = state.exists()
            p, path, written = save_plan(p, out_dir, lambda v: known and state.get(v) is not None)
        except Exception as exc:
            from reconciler.apply.recorded import is_server_or_file_error  # deferred: start-up

            # a role that may not read the state plans all the same, always writing (a clash
            # of versions is refused at apply)
            if not (is_server_or_file_error(exc) or isinstance(exc, StateDenied)):
                raise
            p, path = write_plan(p, out_dir)
            written = True
    return PlanResult(p, path, reused=not written)


DROP_MODES = ("auto", "quarantine", "drop")  # what each keeps: pipeline/trash.py


def _check_drop_mode(mode: str) -> None:
    # Checked here, before any connection and without importing the planner.
    if mode not in DROP_MODES:
        raise InputError(f"Unknown --drop-mode {mode!r}; use one of {', '.join(DROP_MODES)}.")


def check_destructive(p: Plan, allow_destructive: bool) -> None:
    risky = [c for c in p.changes if DESTRUCTIVE in c.hazard_codes()]
    if risky and not allow_destructive:
        names = ", ".join(c.address for c in risky[:5]) + (" …" if len(risky) > 5 else "")
        raise Refused(
            f"The plan has {counted(len(risky), 'destructive change')} ({names}); refusing without "
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
    scope: Scope | None = None,
) -> ApplyResult:
    """Apply a saved plan, or plan+apply from `schemas_dir` — under every target's lock.
    `scope` as for plan()."""
    from reconciler.apply import outcome  # deferred: start-up: a plan loads no apply module
    from reconciler.apply.recorded import (  # deferred: start-up: as above
        ApplyResult,
        PartialApply,
        execute,
        fingerprints,
        record,
    )

    _require_target(pg_url, redis_url)
    _check_drop_mode(drop_mode)
    if (plan_path is None) == (schemas_dir is None):
        raise InputError("Give exactly one of --plan FILE or --schemas DIR.")
    if only and plan_path is not None:
        raise InputError("--target limits a new plan; a saved plan is applied whole.")
    saved = read_plan(plan_path) if plan_path else None
    want = desired_mod.load(schemas_dir) if schemas_dir is not None else None
    directions = ("up", "down") if saved is not None else ()  # checked: its files, as proved
    checked = tuple(verify_files(saved, plan_path.parent, direction=d) for d in directions)
    with open_targets(
        pg_url,
        redis_url,
        command="apply",
        scope=resolve_scope(scope, schemas_dir, plan_path),
        lock_timeout=lock_timeout,
    ) as t:
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
                if rec.slug != p.slug or rec.up_sha256 != sha256(checked[0]):
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
            known = state.exists()
            p, json_path, written = save_plan(  # an identical pending plan is applied, not copied
                p, out_dir, lambda v: known and state.get(v) is not None
            )
            if not written:
                notes.append(f"Plan unchanged: applying the pending plan {json_path}.")
        before = f"{p.live_fingerprint}|{p.redis_fingerprint}"
        up, down = checked if p is saved else (document(p, "up"), document(p, "down"))

        def records(after: Live, started: datetime, log_path: Path) -> None:
            state.record_apply(
                record(p, "up", before, fingerprints(after), up, down, started, log_path),
                lambda: inventory_of(after),  # worked out while the server stores the record
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
    from reconciler.pipeline import trash  # deferred: start-up (the diff) only for a rollback

    last_down = next(
        (r for r in state.history() if r.direction == "down" and r.version == p.version), None
    )
    kept = list(last_down.plan.get("kept", ())) if last_down is not None else []
    if not kept:
        return p
    if t.pg is not None:
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
    from reconciler.apply import rollback_plan  # deferred: start-up: psycopg, pglast

    return rollback_plan.with_restores(p, kept)
