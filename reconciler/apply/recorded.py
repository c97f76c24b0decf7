"""Running a plan's steps on every engine and recording it: all of it, or on failure none.

Owns: `execute` (Postgres statements in their transaction, the Redis steps inside its window
before the commit, the state rows last; a failure reverts the Redis steps done and rolls back
the rest), the per-run log file (`RunLog`), the ApplyRecord written for a run (`record`), and
ApplyResult. api.apply and api.rollback call it; what to run and whether to is theirs.

Must not: decide what a plan is, check it against the live target, or ask anybody anything.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.apply import outcome
from reconciler.apply.outcome import told
from reconciler.apply.timeouts import Timeouts
from reconciler.errors import Interrupted
from reconciler.pipeline.collector import collector_paused
from reconciler.pipeline.planner import Live, Targets, inventory_of, read_live, redis_fingerprint
from reconciler.plan import Plan, Step
from reconciler.plan.files import document, sha256
from reconciler.state.base import ApplyRecord

Log = Callable[[str], None]


@dataclass
class ApplyResult:
    plan: Plan
    applied: bool
    duration_ms: int = 0
    statements: int = 0
    log_path: Path | None = None
    json_path: Path | None = None
    skipped: list[dict[str, str]] = field(default_factory=list)
    attempt: int | None = None  # the attempt row of the run (apply/outcome.py)
    notes: list[str] = field(default_factory=list)  # what a user should read besides


class RunLog:
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


def fingerprints(live: Live) -> str:
    pg = live.pg.fingerprint() if live.pg is not None else ""
    return f"{pg}|{redis_fingerprint(live.redis)}"


def record(
    p: Plan,
    direction: str,
    before: str,
    after: str,
    up: str,
    down: str,
    started: datetime,
    log_path: Path,
    plan_dict: dict[str, Any] | None = None,
) -> ApplyRecord:
    return ApplyRecord(
        version=p.version,
        slug=p.slug,
        direction=direction,
        status="applied",
        up_sha256=sha256(up),
        down_sha256=sha256(down),
        up_sql=up,
        down_sql=down,
        plan=plan_dict if plan_dict is not None else p.to_dict(),
        desired_hash=p.desired_hash,
        fingerprint_before=before,
        fingerprint_after=after,
        change_count=len(p.changes),
        log_path=str(log_path),
        started_at=started,
        finished_at=datetime.now(UTC),
    )


def execute(
    t: Targets,
    state: Any,
    steps: list[Step],
    p: Plan,
    direction: str,
    records: Callable[[Live, datetime, Path], None],
    names: tuple[str, ...],
    timeouts: Timeouts,
    logs_dir: Path,
    echo: Log | None,
    undo: list[Step] | None = None,
    in_batches: bool = False,
    progress: Callable[[int, int], None] | None = None,
    partial: Partial | None = None,
    undone: Callable[[datetime, Path], None] | None = None,
    not_deleted: frozenset[str] = frozenset(),
) -> ApplyResult:
    """Run the steps of every engine and record state; all of it or, on failure, none.

    A run of several transactions (batches, online phases) calls `partial(ran, k, n,
    started, log_path)` inside each but the last, before its COMMIT, to record the changes
    that ran so far (ids of `p.changes`); `undo` reverts what committed should a later part
    fail, and `undone(started, log_path)` records that inside the undo's last transaction."""
    from_redis = [s for s in steps if s.change.engine == "redis"]
    from_pg = [s for s in steps if s.change.engine == "pg"]
    state.ensure()
    started = datetime.now(UTC)
    log = RunLog(logs_dir, f"{p.name}_{direction}", echo)
    if t.journal is not None:  # names the run in its Redis journal (locks/redis_journal.py)
        t.journal.begin(version=p.version, direction=direction)
    attempt = state.begin_attempt(version=p.version, direction=direction)
    skipped: list[dict[str, str]] = []

    def finish() -> None:
        # Inside the Postgres transaction (when there is one): Redis, then the state rows.
        done = []
        if from_redis:
            from reconciler.apply.redis.executor import (  # deferred: start-up: redis
                inverse_steps,
                run_redis,
            )

            check = t.redis_lock.check if t.redis_lock is not None else (lambda: None)
            undoes = state.get(p.version) if direction == "down" else None
            applied = (undoes.started_at, undoes.finished_at) if undoes is not None else None
            outcome = run_redis(
                t.redis,
                from_redis,
                log=log,
                check_lock=check,
                journal=t.journal,
                applied=applied,
                not_deleted=not_deleted,
            )
            done, skipped[:] = outcome.done, outcome.skipped
        try:
            with collector_paused():  # the catalog read back and its inventory: bounded
                after = read_live(t, config_names=names, scan=False)
                records(after, started, log.path)
            if skipped:
                # Every key a prune left alone (a rollback must not bring back a key its apply
                # never deleted: rollback_gate.not_deleted); the first thousand of all, to read.
                kept = [s["key"] for s in skipped if s.get("step") == "del"]
                detail = {"keys": skipped[:1000], "not_deleted": kept}
                state.record_event("redis-skipped", p.version, detail)
            state.finish_attempt(attempt, status="succeeded")
        except BaseException:
            if done:
                log(f"revert {len(done)} Redis steps: recording the state failed")
                run_redis(t.redis, inverse_steps(done), log=log)
            raise

    try:
        log(f"{direction} {p.name}: {len(p.changes)} changes")
        if t.pg is not None:
            from reconciler.apply.pg.executor import run_statements  # deferred: start-up: psycopg

            what = "apply" if direction == "up" else "rollback"
            from reconciler.apply.pg.lock_table import lock_budget  # deferred: start-up: psycopg

            budget = lock_budget(t.pg, from_pg, in_batches=in_batches, what=what, log=log)

            def batch_done(k: int, n: int, ran: frozenset[int], finished: frozenset[int]) -> None:
                # Inside batch k's transaction: what committed so far is recorded with it.
                state.record_event("batch-committed", p.version, {"batch": k, "of": n})
                if partial is not None:
                    partial(ran, k, n, started, log.path, finished)

            def on_undone() -> None:
                if undone is not None:
                    undone(started, log.path)

            ran = run_statements(
                t.pg,
                from_pg,
                timeouts=timeouts,
                log=log,
                before_commit=finish,
                what=what,
                undo=[s for s in undo or () if s.change.engine == "pg"],
                lock_budget=budget,
                on_batch=batch_done,
                on_undone=on_undone,
                undo_for=partial.undo_for if isinstance(partial, PartialApply) else None,
                progress=progress,
            )
            ms, count = ran.duration_ms, ran.statements + len(from_redis)
        else:
            finish()
            ms = int((datetime.now(UTC) - started).total_seconds() * 1000)
            count = len(from_redis)
    except Exception as exc:
        log(f"failed: {exc}")
        finish_failed(state, attempt, str(exc))
        log.close()
        raise
    except KeyboardInterrupt:
        log("interrupted")
        log.close()
        raise Interrupted(interrupted(t, state, attempt, p, direction)) from None
    # Committed. From here on nothing may call the run failed: a Ctrl-C is told what the
    # state says (committed), and a failure to note that it was told is left to the next run.
    try:
        log(f"committed in {ms} ms")
        if t.journal is not None:  # recorded: nothing of it is to be put back any more
            t.journal.clear()
        told(state, attempt, p.version)
    except KeyboardInterrupt:
        raise Interrupted(interrupted(t, state, attempt, p, direction)) from None
    except Exception as exc:
        if not is_server_or_file_error(exc):
            raise
    finally:
        log.close()
    return ApplyResult(p, True, ms, count, log.path, None, skipped, attempt)


Partial = Callable[[frozenset[int], int, int, datetime, Path, frozenset[int]], None]


class PartialApply:
    """An apply's batches recorded as they commit: the changes run so far (ids in `ran`) as
    an apply of the version marked partial, which the next batch's record, or the whole
    apply's, replaces; undone, it is recorded rolled back."""

    def __init__(self, t: Targets, state: Any, p: Plan) -> None:
        self.t, self.state, self.p = t, state, p
        self.part: Plan | None = None

    def __call__(
        self,
        ran: frozenset[int],
        k: int,
        n: int,
        started: datetime,
        log_path: Path,
        finished: frozenset[int] = frozenset(),
    ) -> None:
        """`ran`: the changes begun (their statements committed, or an online one sent);
        `finished`: those of them with nothing left to run."""
        p = self.p
        part = replace(p, changes=tuple(c for c in p.changes if id(c) in ran))
        after = read_live(self.t, scan=False)
        up, down = document(part, "up"), document(part, "down")
        before = f"{p.live_fingerprint}|{p.redis_fingerprint}"
        rec = record(part, "up", before, fingerprints(after), up, down, started, log_path)
        partial = {
            "batch": k,
            "of": n,
            "changes": len(part.changes),
            "finished": sum(1 for c in part.changes if id(c) in finished),
            "of_changes": len(p.changes),
        }
        rec = replace(rec, plan={**rec.plan, "partial": partial})
        self.state.record_apply(rec, inventory_of(after))
        self.part = part

    def undo_for(self, ran: frozenset[int]) -> tuple[list[Step], str] | None:
        """Undo statements that keep what clients wrote, between the phases, into what the
        plain undo would drop (a new column, a new table), in the trash; None when nothing
        committed holds data. Read-only until the undo runs them."""
        if self.t.pg is None or self.part is None:
            return None
        from reconciler.apply import rollback_plan  # deferred: start-up: pglast, psycopg

        live = read_live(self.t, scan=False)
        back = rollback_plan.invert([self.part])
        found = rollback_plan.losses(self.t.pg, back, live.pg) if live.pg is not None else []
        if not found:
            return None
        token = f"undo|{self.p.version}|{datetime.now(UTC).isoformat()}"
        back, kept = rollback_plan.keep(back, found, live.pg, token)
        trash = {k.address: k.trash for k in kept}
        what = "; ".join(
            f"{x.what} ({x.amount}) "
            + (f"kept as reconciler_trash.{trash[x.address]}" if x.address in trash else "lost")
            for x in found
        )
        return back.up_statements(), f"what was written into it meanwhile: {what}"

    def undone(self, started: datetime, log_path: Path) -> None:
        if self.part is not None:  # inside the undo's last transaction
            after = read_live(self.t, scan=False)
            down = record(self.part, "down", "", fingerprints(after), "", "", started, log_path)
            self.state.mark_rolled_back(self.p.version, down, inventory_of(after))


def interrupted(t: Targets, state: Any, attempt: int, p: Plan, direction: str) -> str:
    """The one sentence for a run stopped by Ctrl-C: what the state says became of it. Read
    on a connection of its own once the run's own server process has ended, so that a
    COMMIT in flight has either happened or not."""
    reader, close = state, (lambda: None)
    if t.pg is not None and t.pg_url is not None:
        from reconciler.state.postgres import PgState  # deferred: start-up: psycopg

        pid = t.pg.info.backend_pid
        t.pg.close()
        conn = t.pg_sibling()
        close = conn.close
        outcome.wait_gone(conn, pid)
        reader = PgState(conn)
    try:
        attempts = [a for a in reader.attempts(5) if a.id == attempt]
        if not attempts:
            return f"Interrupted; the {_verb(direction)} of {p.version} was not recorded."
        found = outcome.found(reader, attempts[0])
        outcome.settle(reader, found)
        return f"Interrupted. {found.sentence()}"
    finally:
        close()


def _verb(direction: str) -> str:
    return "apply" if direction == "up" else "rollback"


def finish_failed(state: Any, attempt: int, error: str) -> None:
    # When the connection is gone the attempt row stays 'running' and reads as interrupted.
    try:
        state.finish_attempt(attempt, status="failed", error=error)
    except Exception as exc:  # psycopg.Error (a dead connection), OSError (a file backend)
        if not is_server_or_file_error(exc):
            raise


def is_server_or_file_error(exc: Exception) -> bool:
    psycopg = sys.modules.get("psycopg")  # loaded only when Postgres is a target
    return isinstance(exc, OSError) or (psycopg is not None and isinstance(exc, psycopg.Error))
