"""The library: plan(), apply(), rollback(), export(). The CLI only parses, calls and renders.

Data flows one way: paths → Desired / live Snapshot → [Change] → ordered → Plan → files →
apply (lock → stale check → execute + record state in one transaction).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from reconciler import desired as desired_mod
from reconciler.apply.executor import Timeouts, run_statements
from reconciler.apply.lock import PgLock
from reconciler.canonical import canonicalize
from reconciler.connect import connect_pg, target_info
from reconciler.diff import compare
from reconciler.errors import InputError, Refused, StalePlan
from reconciler.graph import order
from reconciler.introspect.postgres import introspect
from reconciler.model.snapshot import PgSnapshot, inventory
from reconciler.ops.base import DESTRUCTIVE
from reconciler.plan import Plan, build_plan
from reconciler.plan.files import (
    read_plan,
    render_down,
    render_up,
    sha256,
    verify_files,
    write_plan,
)
from reconciler.state.base import ApplyRecord
from reconciler.state.postgres import PgState

Log = Callable[[str], None]


@dataclass
class PlanResult:
    plan: Plan
    json_path: Path | None = None
    lint: list = field(default_factory=list)


@dataclass
class ApplyResult:
    plan: Plan
    applied: bool
    duration_ms: int = 0
    statements: int = 0
    log_path: Path | None = None
    json_path: Path | None = None


def make_plan(
    conn: psycopg.Connection, want: desired_mod.Desired, live: PgSnapshot | None = None
) -> Plan:
    """Compute (don't write) the plan that brings the connected database to `want`."""
    live = introspect(conn) if live is None else live
    desired_pg = canonicalize(conn, want.pg, live)
    ordered = order(compare(desired_pg, live))
    return build_plan(
        ordered,
        desired_hash=want.digest,
        live_fingerprint=live.fingerprint(),
        target=target_info(conn),
    )


def plan(pg_url: str, schemas_dir: Path, *, out_dir: Path | None) -> PlanResult:
    want = desired_mod.load(schemas_dir)  # bad YAML is refused before any connection
    with connect_pg(pg_url, command="plan") as conn:
        p = make_plan(conn, want)
    if p.empty or out_dir is None:
        return PlanResult(p)
    p, path = write_plan(p, out_dir)
    return PlanResult(p, path)


def _check_destructive(p: Plan, allow_destructive: bool) -> None:
    risky = [c for c in p.changes if DESTRUCTIVE in c.hazard_codes()]
    if risky and not allow_destructive:
        names = ", ".join(c.address for c in risky[:5]) + (" …" if len(risky) > 5 else "")
        raise Refused(
            f"The plan has {len(risky)} destructive change(s) ({names}); refusing without "
            "--allow-destructive.",
            detail="Review the drops in the plan, then re-run with --allow-destructive.",
        )


class _ApplyLog:
    """A per-run log file under state/logs/, also echoed to the caller's logger."""

    def __init__(self, logs_dir: Path, name: str, echo: Log | None) -> None:
        logs_dir.mkdir(parents=True, exist_ok=True)
        self.path = logs_dir / f"{name}.log"
        self._fh = self.path.open("a", encoding="utf-8")
        self._echo = echo

    def __call__(self, line: str) -> None:
        self._fh.write(f"{datetime.now(UTC).isoformat(timespec='milliseconds')} {line}\n")
        self._fh.flush()
        if self._echo:
            self._echo(line)

    def close(self) -> None:
        self._fh.close()


def apply(
    pg_url: str,
    *,
    plan_path: Path | None = None,
    schemas_dir: Path | None = None,
    out_dir: Path = Path("plans"),
    allow_destructive: bool = False,
    lock_timeout: float = 0.0,
    timeouts: Timeouts = Timeouts(),
    confirm: Callable[[Plan], bool] | None = None,
    logs_dir: Path = Path("state/logs"),
    echo: Log | None = None,
) -> ApplyResult:
    """Apply a saved plan, or plan+apply from `schemas_dir` — both under the lock."""
    if (plan_path is None) == (schemas_dir is None):
        raise InputError("Give exactly one of --plan FILE or --schemas DIR.")
    saved = read_plan(plan_path) if plan_path else None
    want = desired_mod.load(schemas_dir) if schemas_dir is not None else None
    if saved is not None:
        verify_files(saved, plan_path.parent, direction="up")
        verify_files(saved, plan_path.parent, direction="down")
    with connect_pg(pg_url, command="apply") as conn, PgLock(conn, timeout=lock_timeout):
        state = PgState(conn)
        live = introspect(conn)
        if saved is not None:
            p, json_path = saved, plan_path
            _check_target(p, conn)
            if state.exists() and (rec := state.get(p.version)) and rec.status == "applied":
                raise Refused(f"Plan {p.name} was already applied; it is not run again.")
            if live.fingerprint() != p.live_fingerprint:
                raise StalePlan(
                    "The database changed since this plan was made; refusing to apply a stale "
                    "plan.",
                    detail="Run `reconciler plan` again and review the new plan.",
                )
        else:
            p = make_plan(conn, want, live)
            json_path = None
        if p.empty:
            return ApplyResult(p, applied=False)
        _check_destructive(p, allow_destructive)
        if confirm is not None and not confirm(p):
            raise Refused("Apply cancelled; nothing was changed.")
        if json_path is None:
            p, json_path = write_plan(p, out_dir)
        return _execute(conn, state, p, json_path, timeouts, logs_dir, echo)


def _check_target(p: Plan, conn: psycopg.Connection) -> None:
    here = target_info(conn)
    if p.target.get("database") != here["database"]:
        raise StalePlan(
            f"This plan was made for database {p.target.get('database')!r}, not "
            f"{here['database']!r}; refusing to apply it here.",
        )


def _execute(
    conn: psycopg.Connection,
    state: PgState,
    p: Plan,
    json_path: Path,
    timeouts: Timeouts,
    logs_dir: Path,
    echo: Log | None,
) -> ApplyResult:
    state.ensure()
    started = datetime.now(UTC)
    log = _ApplyLog(logs_dir, f"{p.name}_up", echo)
    attempt = state.begin_attempt(version=p.version, direction="up")
    up_text, down_text = render_up(p), render_down(p)
    before = p.live_fingerprint

    def record() -> None:
        after = introspect(conn)
        state.record_apply(
            ApplyRecord(
                version=p.version,
                slug=p.slug,
                direction="up",
                status="applied",
                up_sha256=sha256(up_text),
                down_sha256=sha256(down_text),
                up_sql=up_text,
                down_sql=down_text,
                plan=p.to_dict(),
                desired_hash=p.desired_hash,
                fingerprint_before=before,
                fingerprint_after=after.fingerprint(),
                change_count=len(p.changes),
                log_path=str(log.path),
                started_at=started,
                finished_at=datetime.now(UTC),
            ),
            inventory(after),
        )
        state.finish_attempt(attempt, status="succeeded")

    try:
        log(f"apply {p.name}: {len(p.changes)} changes")
        done = run_statements(
            conn, p.up_statements(), timeouts=timeouts, log=log, before_commit=record
        )
        log(f"committed in {done.duration_ms} ms")
    except Exception as exc:
        log(f"failed: {exc}")
        _finish_failed(state, attempt, str(exc))
        raise
    finally:
        log.close()
    return ApplyResult(p, True, done.duration_ms, done.statements, log.path, json_path)


def _finish_failed(state: PgState, attempt: int, error: str) -> None:
    # When the connection is gone the attempt row stays 'running' and reads as interrupted.
    with contextlib.suppress(psycopg.Error):
        state.finish_attempt(attempt, status="failed", error=error)


def rollback(
    pg_url: str,
    *,
    version: str | None = None,
    last: bool = False,
    plans_dir: Path = Path("plans"),
    lock_timeout: float = 0.0,
    timeouts: Timeouts = Timeouts(),
    force: bool = False,
    confirm: Callable[[list[ApplyRecord]], bool] | None = None,
    logs_dir: Path = Path("state/logs"),
    echo: Log | None = None,
) -> list[ApplyRecord]:
    """Run down files newest first, down to and including `version` (or only the last one)."""
    if bool(version) == bool(last):
        raise InputError("Give exactly one of --version V or --last.")
    with connect_pg(pg_url, command="rollback") as conn, PgLock(conn, timeout=lock_timeout):
        state = PgState(conn)
        if not state.exists():
            raise Refused("Nothing to roll back: no apply has been recorded in this database.")
        applied = [r for r in state.history() if r.direction == "up" and r.status == "applied"]
        if last:
            targets = applied[:1]
        else:
            targets = [r for r in applied if r.version >= version]
            if not any(r.version == version for r in applied):
                raise Refused(f"Version {version} is not an applied version of this database.")
        if not targets:
            raise Refused("Nothing to roll back: every recorded apply is already rolled back.")
        live = introspect(conn)
        if live.fingerprint() != targets[0].fingerprint_after and not force:
            raise StalePlan(
                f"The database changed since version {targets[0].version} was applied; "
                "rolling back now could undo changes made since.",
                detail="Inspect with `reconciler plan`, or pass --force to roll back anyway.",
            )
        steps = []
        for rec in targets:
            p = Plan.from_dict(rec.plan)
            _verify_down(rec, p, plans_dir)
            steps += p.down_statements()
        if confirm is not None and not confirm(targets):
            raise Refused("Rollback cancelled; nothing was changed.")
        return _execute_rollback(conn, state, targets, steps, timeouts, logs_dir, echo)


def _verify_down(rec: ApplyRecord, p: Plan, plans_dir: Path) -> None:
    """The down file, where it still exists, must be the one recorded at apply time."""
    if render_down(p) != rec.down_sql or sha256(rec.down_sql) != rec.down_sha256:
        raise StalePlan(f"The recorded down script of {rec.version} does not match its plan.")
    name = p.files.get("down", {}).get("name")
    path = plans_dir / name if name else None
    if path is not None and path.exists() and sha256(path.read_text("utf-8")) != rec.down_sha256:
        raise StalePlan(
            f"The down file {path} was edited since {rec.version} was applied "
            "(checksum mismatch); refusing to run it.",
            detail="Restore the file from version control; the recorded copy is in the state.",
        )


def _execute_rollback(
    conn: psycopg.Connection,
    state: PgState,
    targets: list[ApplyRecord],
    steps: list,
    timeouts: Timeouts,
    logs_dir: Path,
    echo: Log | None,
) -> list[ApplyRecord]:
    started = datetime.now(UTC)
    log = _ApplyLog(logs_dir, f"{targets[-1].version}_down", echo)
    attempt = state.begin_attempt(version=targets[-1].version, direction="down")

    def record() -> None:
        after = introspect(conn)
        inv = inventory(after)
        for rec in targets:
            state.mark_rolled_back(
                rec.version,
                ApplyRecord(
                    version=rec.version,
                    slug=rec.slug,
                    direction="down",
                    status="applied",
                    up_sha256=rec.up_sha256,
                    down_sha256=rec.down_sha256,
                    up_sql=rec.up_sql,
                    down_sql=rec.down_sql,
                    plan=rec.plan,
                    desired_hash=rec.desired_hash,
                    fingerprint_before=rec.fingerprint_after,
                    fingerprint_after=after.fingerprint(),
                    change_count=rec.change_count,
                    log_path=str(log.path),
                    started_at=started,
                    finished_at=datetime.now(UTC),
                ),
                inv,
            )
        state.finish_attempt(attempt, status="succeeded")

    try:
        log(f"rollback {', '.join(r.version for r in targets)}")
        run_statements(conn, steps, timeouts=timeouts, log=log, before_commit=record)
        log("committed")
    except Exception as exc:
        log(f"failed: {exc}")
        _finish_failed(state, attempt, str(exc))
        raise
    finally:
        log.close()
    return targets


def plan_json(p: Plan) -> str:
    return json.dumps(p.to_dict(), indent=2, ensure_ascii=False)
