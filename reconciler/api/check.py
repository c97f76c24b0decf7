"""`reconciler check` (the seed's `make migrate_check`): is what is about to be applied sound?

1. The desired state validates and lints clean (warnings are listed, errors fail).
2. The plans directory is intact, like a migrations sum file: every plan's files match the
   checksums it recorded, every up has its down, no SQL file stands without its plan, and the
   files of every plan the state records as applied are those that ran.
3. Every pending plan (not recorded as applied) is tried on a scratch database cloned from the
   live schema (`pg_dump --schema-only`, on the same server, dropped afterwards): up, up once
   more (a second run must fail nowhere: generated files guard every create), down, which must
   give back exactly the schema it started from (pg_dump), then up again.
   After the last one, a plan of the desired state against the scratch database must find no
   changes. The first pending plan must also have been made against the live catalog as it
   is now (its fingerprint), or apply would refuse it. A pending plan superseded by a later
   one made for the same target from the same live state (superseded_by) is not tried: the
   report names it and the plan that replaces it.
4. The scratch copy has no rows, so what only rows can refuse (a NOT NULL column added
   without a default, a new check, foreign key, unique constraint or index, SET NOT NULL) is
   asked of the live rows, read-only and under a short timeout (usecases/check_rows.py); what cannot
   be asked or answered in time is listed as not proved.

The live database is only read. Redis steps of a plan are not tried (there is no scratch
Redis); the report says so.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from reconciler.api import runs
from reconciler.apply.pg.executor import run_statements
from reconciler.apply.pg.lock_table import estimate, lock_room
from reconciler.apply.timeouts import Timeouts
from reconciler.connect import connect_pg
from reconciler.connect.pgclient import client_binary, run_client
from reconciler.desired import load
from reconciler.desired.lint import lint
from reconciler.errors import InputError, ReconcilerError
from reconciler.introspect.pg.catalog import introspect
from reconciler.model.names import TOOL_SCHEMAS
from reconciler.model.words import counted
from reconciler.plan.files import file_key, read_plan, sha256
from reconciler.project.config import resolve_scope
from reconciler.project.scope import Scope
from reconciler.state.postgres import PgState
from reconciler.usecases.check_rows import check_rows

if TYPE_CHECKING:
    from reconciler.desired import Desired
    from reconciler.plan import Plan, Step


@dataclass(frozen=True, slots=True)
class Finding:
    ok: bool | None  # True passed, False failed, None a note
    step: str
    message: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def passed(self, step: str, message: str) -> None:
        self.findings.append(Finding(True, step, message))

    def failed(self, step: str, message: str) -> None:
        self.findings.append(Finding(False, step, message))

    def note(self, step: str, message: str) -> None:
        self.findings.append(Finding(None, step, message))

    @property
    def ok(self) -> bool:
        return all(f.ok is not False for f in self.findings)


def check(pg_url: str, schemas_dir: Path, plans_dir: Path, *, scope: Scope | None = None) -> Report:
    """`scope`: the schemas left out (None: those of the project holding `schemas_dir`, as
    api.plan), the same the pending plans were made under."""
    if not plans_dir.is_dir():
        raise InputError(f"{plans_dir}/ is not a directory of plans.")
    scope = resolve_scope(scope, schemas_dir, plans_dir)
    report = Report()
    want = _validate(report, schemas_dir)
    plans = []
    for path in sorted(plans_dir.glob("*.plan.json")):
        try:
            plans.append(read_plan(path))
        except InputError as exc:
            report.failed("plans", f"{path}: {exc}")
    _integrity(report, plans_dir, plans)

    with connect_pg(pg_url, command="check") as conn:
        applied = _applied(report, conn, plans_dir, plans)
        pending = [p for p in plans if p.version not in applied and _has_pg(p)]
        pending = _drop_superseded(report, plans, pending)
        if not pending:
            report.note("scratch", "no pending plan to try")
            return report
        _fresh(report, conn, pending[0], scope)
        # The scratch copy has no rows: what only rows can refuse is asked of the live ones.
        check_rows(report, conn, pending, want.pg if want is not None else None)
    with scratch_database(pg_url) as scratch_url:
        _try_pending(report, scratch_url, schemas_dir, pending, scope)
    return report


def superseded_by(plan: Plan, plans: list[Plan]) -> Plan | None:
    """The newest later plan made for the same target against the same live state as `plan`
    (both fingerprints), applied or not: only one of two plans made from one state can ever be
    applied (apply refuses the other as stale), and the later is the one meant."""
    if not plan.live_fingerprint and not plan.redis_fingerprint:
        return None  # a plan that records no live state supersedes nothing, nor is superseded

    later = [q for q in plans if q.version > plan.version and q.made_from() == plan.made_from()]
    return max(later, key=lambda q: q.version) if later else None


def _drop_superseded(report: Report, plans: list[Plan], pending: list[Plan]) -> list[Plan]:
    kept = []
    for p in pending:
        if (newer := superseded_by(p, plans)) is not None:
            report.note(
                "plans",
                f"{p.name}: superseded by {newer.name}, made later against the same live "
                "state; not tried (delete it, or apply it on purpose)",
            )
        else:
            kept.append(p)
    return kept


def _has_pg(plan: Plan) -> bool:
    return any(c.engine == "pg" for c in plan.changes)


def pg_steps(plan: Plan, direction: str) -> list[Step]:
    """The Postgres statements of one direction, in the order apply runs them."""
    steps = plan.up_statements() if direction == "up" else plan.down_statements()
    return [s for s in steps if s.change.engine == "pg"]


# --- 1. desired state ----------------------------------------------------------------------------


def _validate(report: Report, schemas_dir: Path) -> Desired | None:

    try:
        want = load(schemas_dir)
    except InputError as exc:
        problems = [str(p) for p in getattr(exc, "problems", ())] or [str(exc)]
        for problem in problems:
            report.failed("validate", problem)
        return None
    findings = lint(want)
    errors = [f for f in findings if f.severity == "error"]
    for f in findings:
        where = f"{f.source}: " if f.source else ""
        line = f"{where}[{f.rule}] {f.message}"
        report.failed("lint", line) if f.severity == "error" else report.note("lint", line)
    if not errors:
        files, warnings = counted(len(want.files), "file"), counted(len(findings), "lint warning")
        report.passed("validate", f"{files} valid; {warnings}")
    return want


# --- 2. the plans directory ----------------------------------------------------------------------


def _integrity(report: Report, plans_dir: Path, plans: list[Plan]) -> None:
    """Checksums only: a plan written by an older release of the tool renders differently
    today, and is still exactly the plan that was reviewed."""

    named = {p.name for p in plans}
    for up in sorted(plans_dir.glob("*_up.sql")) + sorted(plans_dir.glob("*_up.redis")):
        stem = up.name.rsplit("_up.", 1)[0]
        down = up.with_name(f"{stem}_down{up.suffix}")
        if not down.exists():
            report.failed("plans", f"{up} has no down file ({down.name})")
        if stem not in named:
            report.failed("plans", f"{up} has no plan file ({stem}.plan.json)")
    for p in plans:
        problems = 0
        for key, meta in sorted(p.files.items()):
            path = plans_dir / meta["name"]
            if not path.exists():
                report.failed("plans", f"{p.name}: its {key} file {path.name} is missing")
                problems += 1
            elif sha256(path.read_text(encoding="utf-8")) != meta["sha256"]:
                report.failed(
                    "plans", f"{p.name}: {path.name} was edited after planning (checksum mismatch)"
                )
                problems += 1
        if not problems:
            report.passed("plans", f"{p.name}: files match their checksums")


def _applied(
    report: Report, conn: psycopg.Connection, plans_dir: Path, plans: list[Plan]
) -> set[str]:
    """Versions the state records as applied; their files must be those that ran."""

    state = PgState(conn)
    if not state.exists():
        report.note("state", "no apply recorded yet: every plan is pending")
        return set()
    records = {r.version: r for r in state.history() if r.direction == "up"}
    applied = {v for v, r in records.items() if r.status == "applied"}
    by_version = {p.version: p for p in plans}
    for version in sorted(applied):
        rec, p = records[version], by_version.get(version)
        if p is None:
            report.note("state", f"{version} is applied; its files are not in {plans_dir}")
            continue
        for direction, recorded in (("up", rec.up_sha256), ("down", rec.down_sha256)):
            meta = p.files.get(file_key("pg", direction))
            if not meta or recorded is None:
                continue
            path = plans_dir / meta["name"]
            text = path.read_text(encoding="utf-8") if path.exists() else None
            if text is None:
                report.failed("state", f"{p.name}: applied, and its {direction} file is missing")
            elif sha256(text) != recorded:
                report.failed(
                    "state",
                    f"{p.name}: its {direction} file differs from the one applied "
                    f"(recorded sha256 {recorded[:12]}…)",
                )
    return applied


def _fresh(report: Report, conn: psycopg.Connection, first: Plan, scope: Scope) -> None:

    live = introspect(conn, scope=scope).fingerprint()
    if first.live_fingerprint and first.live_fingerprint != live:
        report.failed(
            "stale",
            f"{first.name} was made against a catalog that has changed since: apply would "
            "refuse it; make a new plan",
        )
    else:
        report.passed("stale", f"{first.name} was made against the live catalog as it is now")


# --- 3. pending plans on a scratch database ------------------------------------------------------


def dump(url: str) -> str:
    argv = [client_binary("pg_dump"), "--schema-only", "--no-owner", f"--dbname={url}"]
    argv += [f"--exclude-schema={s}" for s in TOOL_SCHEMAS]
    return run_client(argv)


def same_schema(a: str, b: str) -> bool:
    """Two dumps equal but for the random key of `\\restrict` lines (pg_dump 15.14+)."""

    def lines(text: str) -> list[str]:
        return [x for x in text.splitlines() if not x.startswith(("\\restrict", "\\unrestrict"))]

    return lines(a) == lines(b)


@contextmanager
def scratch_database(pg_url: str, *, clone: bool = True) -> Iterator[str]:
    """A new database on the same server, holding the live schema (no rows) when `clone`,
    else empty; dropped afterwards whatever happens."""
    name = f"reconciler_check_{secrets.token_hex(6)}"
    with connect_pg(pg_url, command="check") as admin:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.InsufficientPrivilege:
            raise ReconcilerError(
                "Cannot create the scratch database the plans are tried on: this user may not "
                "create databases.",
                detail="Run it as a user with CREATEDB (the live database is only read).",
            ) from None
    try:
        url = make_conninfo(**{**conninfo_to_dict(pg_url), "dbname": name})
        if clone:
            schema = dump(pg_url)
            psql = [client_binary("psql"), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", url]
            run_client(psql, stdin=schema)
        yield url
    finally:
        with connect_pg(pg_url, command="check") as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def run(conn: psycopg.Connection, steps: list[Step], undo: list[Step] | None = None) -> str | None:
    """Run Postgres steps as apply does; the error's sentence, or None."""

    room = lock_room(conn)  # a plan too big for one transaction is tried in batches here
    budget = None if estimate(steps) <= room.budget else room.budget
    try:
        run_statements(
            conn,
            steps,
            timeouts=Timeouts(),
            log=lambda _: None,
            before_commit=lambda: None,
            undo=undo or (),
            lock_budget=budget,
        )
    except ReconcilerError as exc:
        return str(exc)
    return None


def _try_pending(
    report: Report, url: str, schemas_dir: Path, pending: list[Plan], scope: Scope
) -> None:

    with connect_pg(url, command="check") as conn:
        for p in pending:
            if any(c.engine == "redis" for c in p.changes):
                report.note("scratch", f"{p.name}: its Redis steps are not tried")
            up, down = pg_steps(p, "up"), pg_steps(p, "down")
            before = dump(url)
            if (error := run(conn, up, down)) is not None:
                report.failed(
                    "up", f"{p.name}: the up file fails on a copy of the live schema: {error}"
                )
                return
            if (error := run(conn, up, down)) is not None:
                report.failed("up", f"{p.name}: the up file cannot run twice: {error}")
                return
            if (error := run(conn, down)) is not None:
                report.failed("down", f"{p.name}: the down file fails after its up: {error}")
                return
            if not same_schema(dump(url), before):
                report.failed("down", f"{p.name}: the down file does not give the schema back")
                return
            report.passed("down", f"{p.name}: up, up again, down gives the schema back exactly")
            if (error := run(conn, up)) is not None:
                report.failed("up", f"{p.name}: the up file fails after its down: {error}")
                return
            report.passed("up", f"{p.name}: applies on a copy of the live schema")
    try:
        after = runs.plan(url, schemas_dir, out_dir=None, scope=scope).plan
    except ReconcilerError as exc:  # e.g. a type or function nothing defines (preflight)
        report.failed("desired", f"the desired state cannot be planned: {exc}")
        for problem in exc.problems:
            report.failed("desired", str(problem))
        return
    if after.empty:
        report.passed("desired", "after the pending plans the schema equals the desired state")
    else:
        names = ", ".join(c.address for c in after.changes[:5])
        more = " …" if len(after.changes) > 5 else ""
        report.failed(
            "desired",
            f"after the pending plans {counted(len(after.changes), 'change')} would still be "
            f"planned: {names}{more}; "
            "the plans do not reach the desired state (make a new plan)",
        )
