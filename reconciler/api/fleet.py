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

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import desired as desired_mod
from reconciler.api import drift as drift_mod
from reconciler.api import runs
from reconciler.api.fleet_targets import Target, targets
from reconciler.errors import ReconcilerError, Refused
from reconciler.project.config import resolve_scope
from reconciler.project.scope import Scope

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = [
    "DEFAULT_PARALLEL",
    "FleetReport",
    "Interrupted",
    "Rollout",
    "Target",
    "TargetResult",
    "apply",
    "drift",
    "plan",
    "run",
    "targets",
]

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
        """A target failed or was left out (a stopped rollout, Ctrl-C)."""
        return self.stopped is not None or any(
            r.status in (FAILED, NOT_STARTED) for r in self.results
        )

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
    interrupted = False
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="fleet") as pool:
        running: set[Future[TargetResult]] = set()
        try:
            while pending or running:
                while (
                    pending
                    and len(running) < parallel
                    and not (stop_on_failure and failed.is_set())
                ):
                    running.add(pool.submit(one, pending.pop(0)))
                if not running:
                    break
                _, running = wait(running, return_when=FIRST_COMPLETED)
        except KeyboardInterrupt:  # start no more; those running end as one transaction each
            interrupted = True
            wait(running)
    for target in pending:  # never started: a failure (or Ctrl-C) stopped the rollout
        results.setdefault(target.name, TargetResult(target))
    if interrupted:
        raise Interrupted(
            f"Interrupted: the databases being worked on finished; {len(pending)} not started."
        )
    return not failed.is_set()


class Interrupted(Exception):
    """Ctrl-C during a fleet run, raised once the targets already running have ended."""


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
    scope: Scope | None = None,
) -> FleetReport:
    """Plan every target (read-only); plans are written under `<out>/<target>/`. `scope`: as
    for api.plan (None: the project's of `schemas`), the same for every target."""

    desired_mod.load(schemas)  # bad YAML is one error before any connection, not one per target
    scope = resolve_scope(scope, schemas)
    options: dict[str, Any] = {"drop_mode": drop_mode, "only": only, "scope": scope}
    if large_rows is not None:
        options["large_rows"] = large_rows

    def work(target: Target, res: TargetResult) -> None:
        result = runs.plan(
            target.url, schemas, out_dir=None if out is None else out / target.name, **options
        )
        res.detail = result.plan
        res.counts = result.plan.counts()
        res.status = OK if result.plan.empty else CHANGES
        res.plan_path = result.json_path
        res.version = None if result.plan.empty else result.plan.version

    return _read_only("plan", environment, items, work, parallel, done)


def drift(
    environment: str,
    items: Sequence[Target],
    schemas: Path,
    *,
    parallel: int,
    done: Callable[[TargetResult], None] | None = None,
    scope: Scope | None = None,
) -> FleetReport:
    """Check every target for drift (read-only); `scope` as for plan()."""

    want = desired_mod.load(schemas)
    scope = resolve_scope(scope, schemas)

    def work(target: Target, res: TargetResult) -> None:
        report = drift_mod.drift(target.url, None, schemas, want=want, scope=scope)
        res.detail, res.report = report, report.to_dict()
        res.counts = {"desired": len(report.desired), "recorded": len(report.recorded)}
        res.status = DRIFT if report.drifted else OK

    return _read_only("drift", environment, items, work, parallel, done)


def _read_only(
    command: str,
    environment: str,
    items: Sequence[Target],
    work: Callable[[Target, TargetResult], None],
    parallel: int,
    done: Callable[[TargetResult], None] | None,
) -> FleetReport:
    """plan and drift: every target, none stopping the others."""
    results: dict[str, TargetResult] = {}
    start = time.monotonic()
    stopped = None
    try:
        run(items, work, parallel=parallel, results=results, done=done)
    except Interrupted as exc:
        stopped = str(exc)
    report = FleetReport(command, environment, [results[t.name] for t in items], stopped=stopped)
    report.seconds = time.monotonic() - start
    return report


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
    scope: Scope | None = None,
    **apply_options: Any,
) -> FleetReport:
    """Plan every target, confirm once, then roll the plans out (canary first); every plan is
    made and applied under one scope (`scope` as for plan())."""
    start = time.monotonic()
    scope = resolve_scope(scope, schemas)
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
        scope=scope,
    )
    for res in planned.results:
        if res.status == CHANGES:
            try:
                runs.check_destructive(res.detail, allow_destructive)
            except ReconcilerError as exc:
                res.status, res.error = FAILED, error_sentence(exc, res.target)
    report = FleetReport("apply", environment, planned.results, stopped=planned.stopped)
    unplanned = [r for r in report.results if r.status == FAILED]
    ready = [r.target for r in report.results if r.status == CHANGES]
    if report.stopped is None and unplanned and not rollout.continue_on_error:
        report.stopped = (
            f"{len(unplanned)} of {len(items)} targets could not be planned; nothing was "
            "applied (--continue-on-error applies the others)."
        )
    if report.stopped is None and ready and confirm is not None and not confirm(report):
        raise Refused("Apply cancelled; nothing was changed.")
    for res in report.results:
        if res.status == CHANGES:
            res.status = NOT_STARTED  # until its apply runs
    if report.stopped is not None:
        report.seconds = time.monotonic() - start
        return report

    def work(target: Target, res: TargetResult) -> None:
        result = runs.apply(
            target.url,
            plan_path=res.plan_path,
            out_dir=out / target.name,
            logs_dir=logs / target.name,
            allow_destructive=allow_destructive,
            scope=scope,
            **apply_options,
        )
        res.status = APPLIED if result.applied else OK

    results = {r.target.name: r for r in report.results}
    try:
        report.stopped = _roll_out(ready, work, rollout, results, done)
    except Interrupted as exc:
        report.stopped = str(exc)
    report.seconds = time.monotonic() - start
    return report


def _roll_out(
    ready: list[Target],
    work: Callable[[Target, TargetResult], None],
    rollout: Rollout,
    results: dict[str, TargetResult],
    done: Callable[[TargetResult], None] | None,
) -> str | None:
    """Canaries one by one, then the rest; why the rollout stopped early, if it did."""
    canaries, others = ready[: rollout.canary], ready[rollout.canary :]
    if not run(canaries, work, parallel=1, stop_on_failure=True, results=results, done=done):
        return f"A canary target failed; no other target was touched ({len(others)} not started)."
    stop = not rollout.continue_on_error
    if run(
        others, work, parallel=rollout.parallel, stop_on_failure=stop, results=results, done=done
    ):
        return None
    if not stop:
        return None
    waiting = sum(1 for r in results.values() if r.status == NOT_STARTED)
    return (
        f"The rollout stopped after a failure; {waiting} targets not started "
        "(--continue-on-error goes on past failures)."
    )
