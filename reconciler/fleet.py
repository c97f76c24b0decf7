"""Fleets: one desired schema, many PostgreSQL databases (shards, tenants, regions).

Owns: turning a fleet environment of reconciler.yaml (config.FleetSpec: a list, a file or a
query) into named targets, and running plan, apply and drift over them with bounded
concurrency, each target through the same api functions a single run uses — so one lock per
target, one state per target, and every guarantee of a single apply holds for each database.

How an apply rolls out:
1. every target is planned (read-only, in parallel); the plans are written under
   `<out>/<target>/` and shown together. A target that cannot be planned, or a destructive
   plan without --allow-destructive, stops the rollout before anything is applied (unless
   --continue-on-error: then the targets that planned cleanly go on);
2. the canary targets (the first `canary` ones, in order) are applied one after the other; a
   failure there always stops the rollout — that is what a canary is for;
3. the others are applied, `parallel` at a time, each from its saved plan (so a database that
   changed since step 1 is refused as stale, never applied something nobody saw). After the
   first failure no new target is started unless --continue-on-error; the ones already running
   finish (each is one transaction: applied or as it was).

Must not: print (the CLI renders FleetReport), print a password (targets are shown by name and
redacted URL), or let one target's failure pass as success: every target ends with a status.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reconciler.config import FleetSpec
from reconciler.connect import redact
from reconciler.errors import InputError, ReconcilerError

if TYPE_CHECKING:
    from concurrent.futures import Future

JSON_FORMAT = 1
DEFAULT_PARALLEL = 4

# What a target ends as. Failed and not started are what a rollout must make loud.
OK, CHANGES, DRIFT, APPLIED, FAILED, NOT_STARTED = (
    "ok",
    "changes",
    "drift",
    "applied",
    "failed",
    "not started",
)


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # unique in the fleet; names its plans directory and log directory
    url: str  # may hold a password: shown only through `shown`

    @property
    def shown(self) -> str:
        return redact(self.url)


@dataclass
class TargetResult:
    target: Target
    status: str = NOT_STARTED
    seconds: float = 0.0
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)  # add/change/drop of its plan
    plan_path: Path | None = None
    version: str | None = None
    report: dict[str, Any] | None = None  # drift: the drift.v1 document of this target
    detail: Any = None  # the Plan (plan, apply) or DriftReport (drift) behind the result

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.target.name,
            "target": self.target.shown,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "counts": self.counts,
            "plan": str(self.plan_path) if self.plan_path else None,
            "version": self.version,
        }
        if self.report is not None:
            out["report"] = self.report
        return out


@dataclass
class FleetReport:
    command: str
    environment: str
    results: list[TargetResult]
    seconds: float = 0.0
    stopped: str | None = None  # why the rollout stopped early, when it did

    def tally(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    @property
    def failed(self) -> bool:
        return any(r.status in (FAILED, NOT_STARTED) for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": JSON_FORMAT,
            "command": self.command,
            "environment": self.environment,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
            "summary": {"targets": len(self.results), **self.tally()},
            "targets": [r.to_dict() for r in self.results],
        }


# ----------------------------------------------------------------------------- the targets


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def targets(spec: FleetSpec) -> list[Target]:
    """The fleet's databases, in the order given, each with a unique safe name."""
    if spec.file is not None:
        pairs = _from_file(spec.file)
    elif spec.query is not None:
        pairs = _from_query(spec)
    else:
        pairs = list(spec.entries)
    if not pairs:
        raise InputError(f"{spec.where}: the fleet has no databases.")
    out: list[Target] = []
    names: dict[str, str] = {}
    urls: set[str] = set()
    for given, url in pairs:
        name = _safe_name(given) if given else _name_of(url)
        if not name:
            raise InputError(f"{spec.where}: a fleet target name {given!r} has no usable letter.")
        if url in urls:
            raise InputError(f"{spec.where}: {redact(url)} is listed twice in the fleet.")
        if name in names:
            raise InputError(
                f"{spec.where}: two fleet targets are named {name!r} ({names[name]} and "
                f"{redact(url)}); give them names ({{name: …, url: …}} or `NAME URL`)."
            )
        names[name], _ = redact(url), urls.add(url)
        out.append(Target(name, url))
    return out


def _safe_name(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-.")[:100]


def _name_of(url: str) -> str:
    """A name from the URL: its database, or host-port-database when that is ambiguous later
    (two clusters with a database of the same name need names given)."""
    try:
        parts = urlsplit(url)
        db = parts.path.lstrip("/")
        return _safe_name(db or f"{parts.hostname or 'local'}-{parts.port or 5432}")
    except ValueError:
        return ""


def _from_file(path: Path) -> list[tuple[str | None, str]]:
    from reconciler.config import _REF  # the same ${VAR} syntax as reconciler.yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read the fleet file {path}: {exc}.") from None
    out: list[tuple[str | None, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = "" if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) > 2:
            raise InputError(f"{path.name}:{number}: expected `URL` or `NAME URL`.")
        for ref in _REF.findall(fields[-1]):
            if ref not in os.environ:
                raise InputError(f"{path.name}:{number}: refers to ${{{ref}}}, which is not set.")
        url = _REF.sub(lambda m: os.environ[m.group(1)], fields[-1])
        out.append((fields[0] if len(fields) == 2 else None, url))
    return out


def _from_query(spec: FleetSpec) -> list[tuple[str | None, str]]:
    """Rows of the query: (dsn) or (name, dsn), read in a read-only transaction."""
    import psycopg

    from reconciler.connect import connect_pg

    assert spec.source is not None and spec.query is not None
    conn = connect_pg(spec.source, command="fleet")
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            rows = conn.execute(spec.query.encode()).fetchall()  # type: ignore[arg-type]
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{spec.where}: the fleet query failed: {reason}") from None
    finally:
        conn.close()
    out: list[tuple[str | None, str]] = []
    for row in rows:
        if len(row) not in (1, 2) or not all(isinstance(v, str) for v in row):
            raise InputError(
                f"{spec.where}: the fleet query must return rows of (dsn) or (name, dsn) text."
            )
        out.append((row[0], row[1]) if len(row) == 2 else (None, row[0]))
    return out


# ----------------------------------------------------------------------------- the runner


def error_sentence(exc: BaseException, target: Target) -> str:
    """One line naming what went wrong, with the target's URL redacted."""
    if isinstance(exc, ReconcilerError):
        text = exc.summary
    else:
        text = " ".join(str(exc).split()) or type(exc).__name__
    return text.replace(target.url, target.shown)


def run(
    items: Sequence[Target],
    work: Callable[[Target, TargetResult], None],
    *,
    parallel: int,
    stop_on_failure: bool = False,
    results: dict[str, TargetResult] | None = None,
    done: Callable[[TargetResult], None] | None = None,
) -> bool:
    """Run `work` for each target, at most `parallel` at once, in the given order of start.

    `work` fills in its TargetResult; an exception marks it failed with one sentence. With
    stop_on_failure no target starts after a failure (those running finish). Returns whether
    every target ran without failing."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait  # not at startup

    results = results if results is not None else {}
    lock = threading.Lock()
    failed = threading.Event()

    def one(target: Target) -> TargetResult:
        res = results.setdefault(target.name, TargetResult(target))
        start = time.monotonic()
        try:
            work(target, res)
        except Exception as exc:  # every target ends with a status, whatever broke
            res.status, res.error = FAILED, error_sentence(exc, target)
        res.seconds = time.monotonic() - start
        if res.status == FAILED:
            failed.set()
        if done is not None:
            with lock:
                done(res)
        return res

    pending = list(items)
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="fleet") as pool:
        running: set[Future[TargetResult]] = set()
        while pending or running:
            while pending and len(running) < parallel and not (stop_on_failure and failed.is_set()):
                running.add(pool.submit(one, pending.pop(0)))
            if not running:
                break
            _, running = wait(running, return_when=FIRST_COMPLETED)
    for target in pending:  # never started: a failure stopped the rollout
        results.setdefault(target.name, TargetResult(target))
    return not failed.is_set()


# ------------------------------------------------------------------------- the commands


def plan(
    environment: str,
    items: Sequence[Target],
    schemas: Path,
    *,
    out: Path | None,
    parallel: int,
    drop_mode: str = "auto",
    large_rows: int | None = None,
    only: tuple[str, ...] = (),
    done: Callable[[TargetResult], None] | None = None,
) -> FleetReport:
    """Plan every target (read-only); plans are written under `<out>/<target>/`."""
    from reconciler import api
    from reconciler import desired as desired_mod

    desired_mod.load(schemas)  # bad YAML is one error before any connection, not one per target
    options: dict[str, Any] = {"drop_mode": drop_mode, "only": only}
    if large_rows is not None:
        options["large_rows"] = large_rows

    def work(target: Target, res: TargetResult) -> None:
        result = api.plan(
            target.url, schemas, out_dir=None if out is None else out / target.name, **options
        )
        res.detail = result.plan
        res.counts = result.plan.counts()
        res.status = OK if result.plan.empty else CHANGES
        res.plan_path = result.json_path
        res.version = None if result.plan.empty else result.plan.version

    results: dict[str, TargetResult] = {}
    start = time.monotonic()
    run(items, work, parallel=parallel, results=results, done=done)
    return FleetReport(
        "plan", environment, [results[t.name] for t in items], time.monotonic() - start
    )


def drift(
    environment: str,
    items: Sequence[Target],
    schemas: Path,
    *,
    parallel: int,
    done: Callable[[TargetResult], None] | None = None,
) -> FleetReport:
    """Check every target for drift (read-only)."""
    from reconciler import desired as desired_mod
    from reconciler.drift import check

    want = desired_mod.load(schemas)

    def work(target: Target, res: TargetResult) -> None:
        report = check(target.url, None, schemas, want=want)
        res.detail, res.report = report, report.to_dict()
        res.counts = {"desired": len(report.desired), "recorded": len(report.recorded)}
        res.status = DRIFT if report.drifted else OK

    results: dict[str, TargetResult] = {}
    start = time.monotonic()
    run(items, work, parallel=parallel, results=results, done=done)
    return FleetReport(
        "drift", environment, [results[t.name] for t in items], time.monotonic() - start
    )


@dataclass(frozen=True)
class Rollout:
    """How an apply goes over the fleet (see the module docstring)."""

    parallel: int = DEFAULT_PARALLEL
    canary: int = 0
    continue_on_error: bool = False


def apply(
    environment: str,
    items: Sequence[Target],
    schemas: Path,
    *,
    out: Path,
    logs: Path,
    rollout: Rollout,
    confirm: Callable[[FleetReport], bool] | None,
    allow_destructive: bool = False,
    done: Callable[[TargetResult], None] | None = None,
    **apply_options: Any,
) -> FleetReport:
    """Plan every target, confirm once, then roll the plans out (canary first)."""
    from reconciler import api

    start = time.monotonic()
    planned = plan(
        environment,
        items,
        schemas,
        out=out,
        parallel=rollout.parallel,
        drop_mode=apply_options.pop("drop_mode", "auto"),
        large_rows=apply_options.pop("large_rows", None),
        only=apply_options.pop("only", ()),
        done=done,
    )
    for res in planned.results:
        if res.status == CHANGES:
            try:
                api.check_destructive(res.detail, allow_destructive)
            except ReconcilerError as exc:
                res.status, res.error = FAILED, error_sentence(exc, res.target)
    report = FleetReport("apply", environment, planned.results)
    unplanned = [r for r in report.results if r.status == FAILED]
    ready = [r.target for r in report.results if r.status == CHANGES]
    if unplanned and not rollout.continue_on_error:
        report.stopped = (
            f"{len(unplanned)} of {len(items)} targets could not be planned; nothing was "
            "applied (--continue-on-error applies the others)."
        )
    elif ready and confirm is not None and not confirm(report):
        from reconciler.errors import Refused

        raise Refused("Apply cancelled; nothing was changed.")
    if report.stopped is not None:
        for res in report.results:
            if res.status == CHANGES:
                res.status = NOT_STARTED
        report.seconds = time.monotonic() - start
        return report
    for res in report.results:
        if res.status == CHANGES:
            res.status = NOT_STARTED  # until its apply runs

    def work(target: Target, res: TargetResult) -> None:
        result = api.apply(
            target.url,
            plan_path=res.plan_path,
            out_dir=out / target.name,
            logs_dir=logs / target.name,
            allow_destructive=allow_destructive,
            **apply_options,
        )
        res.status = APPLIED if result.applied else OK

    results = {r.target.name: r for r in report.results}
    canaries, others = ready[: rollout.canary], ready[rollout.canary :]
    if not run(canaries, work, parallel=1, stop_on_failure=True, results=results, done=done):
        report.stopped = (
            f"A canary target failed; no other target was touched ({len(others)} not started)."
        )
    elif (
        not run(
            others,
            work,
            parallel=rollout.parallel,
            stop_on_failure=not rollout.continue_on_error,
            results=results,
            done=done,
        )
        and not rollout.continue_on_error
    ):
        waiting = sum(1 for r in report.results if r.status == NOT_STARTED)
        report.stopped = (
            f"The rollout stopped after a failure; {waiting} targets not started "
            "(--continue-on-error goes on past failures)."
        )
    report.seconds = time.monotonic() - start
    return report
