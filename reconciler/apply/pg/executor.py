"""Run a plan's statements under the lock, recording state with the last of them.

Most plans are one transaction: the DDL and the state rows commit together or not at all.
Before it an attempt row is written on its own (autocommit), so a run killed mid-way leaves a
record saying so; the transaction itself dies with the connection and Postgres rolls it back.

A plan with online-safe changes on existing tables runs in three phases: the main
transaction (which adds checks and foreign keys NOT VALID), then each online statement on
its own (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT: writes go on meanwhile), then a last
short transaction (SET NOT NULL on a proved column) that also records the state. Should
anything after the first commit fail, the plan's down statements undo what was committed, so
the database is again as it was — unless the connection itself is gone, which is said.

Inside a transaction the statements go to the server in rounds of up to ROUND_STATEMENTS, one
message and one round trip each (the server runs them in order and stops at the first error);
a round that fails is rolled back to its savepoint and run again statement by statement, so the
error still names its change. That halves the wall time of a large plan against per-statement
round trips, and makes it faster than `psql -1 -f` of the same file.

Every statement waits at most lock_timeout for its lock, so writers queued behind it never wait
longer either; a lock not obtained is retried a bounded number of times after a pause.
What a failed statement means (retry, run outside the transaction, stop) and the sentence
it becomes live in failures.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import psycopg

from reconciler.apply.pg.failures import (
    LOCK_NOT_AVAILABLE,
    NEEDS_OUTSIDE,
    QUERY_CANCELED,
    Failed,
    Stopped,
    failure,
    pg_message,
)
from reconciler.apply.pg.lock_table import batches
from reconciler.apply.pg.undo import undo_committed
from reconciler.apply.timeouts import Timeouts
from reconciler.connect import APPLY_SEARCH_PATH
from reconciler.errors import ConnectionFailed
from reconciler.model.words import counted
from reconciler.ops.base import AFTER, MAIN, ONLINE
from reconciler.plan import PlannedChange, Step

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Executed:
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    statements: int


# Statements of one transaction sent to the server in one message (one round trip): at most
# this many, or this many bytes of SQL. A round that fails is re-run statement by statement.
ROUND_STATEMENTS = 250
ROUND_BYTES = 512 * 1024
_ROUND = "reconciler_round"


def run_statements(
    conn: psycopg.Connection,
    steps: list[Step],
    *,
    timeouts: Timeouts,
    log: Log,
    before_commit: Callable[[], None],
    what: str = "apply",
    undo: Sequence[Step] = (),
    lock_budget: int | None = None,
    on_batch: Callable[[int, int, frozenset[int], frozenset[int]], None] | None = None,
    on_undone: Callable[[], None] | None = None,
    undo_for: Callable[[frozenset[int]], tuple[list[Step], str] | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Executed:
    """Execute `steps`; `before_commit` records state in the last transaction.

    `lock_budget` cuts the main statements into batches that each lock at most that many
    relations (apply/pg/lock_table.py). A run of several transactions records what it has done
    as it goes: `on_batch(k, n, ran, finished)` runs inside batch k's transaction, before its
    COMMIT, with the ids of the changes whose statements have then run (`ran`), and again, on
    its own, before each online statement (with that statement's change, begun): so whatever
    committed is recorded, whenever the process dies. `finished`: those of `ran` with no
    statement left. `undo` (the plan's down statements) reverts what committed
    when a later part fails; `on_undone` records that inside the undo's last transaction.
    `undo_for(ran)` may give other undo statements, and a note saying why: when clients wrote
    data into what the undo would drop, statements that keep it in the trash.
    """
    started = datetime.now(UTC)
    t0 = time.monotonic()
    run = _Run(conn, timeouts, log, what)
    run.progress, run.total = progress, len(steps)
    main = [s for s in steps if s.phase == MAIN]
    later = [s for s in steps if s.phase != MAIN]
    chunks = batches(main, lock_budget) if lock_budget is not None and main else [main]
    if len(chunks) == 1 and not later:
        run.transaction(main, before_commit)
    else:
        ran: set[int] = set()
        left = Counter(id(s.change) for s in later)  # each change's statements still to run
        record = on_batch or (lambda k, n, done, finished: None)

        def finished(done: frozenset[int]) -> frozenset[int]:
            return frozenset(c for c in done if not left[c])

        try:
            for k, chunk in enumerate(chunks, 1):
                final = k == len(chunks) and not later
                done = frozenset(ran | {id(s.change) for s in chunk})
                last = partial(record, k, len(chunks), done, finished(done))
                run.transaction(chunk, before_commit if final else last)
                ran |= done
                if not final:
                    log(f"batch {k} of {len(chunks)} committed ({len(chunk)} statements)")
            if later:
                log(f"first transaction committed, then {counted(len(later), 'online statement')}")
            for step in (s for s in later if s.phase == ONLINE):
                if id(step.change) not in ran:
                    # Recorded before it runs: its down (DROP … IF EXISTS) is safe either way.
                    ran.add(id(step.change))
                    record(len(chunks), len(chunks), frozenset(ran), finished(frozenset(ran)))
                run.online(step)
                left[id(step.change)] -= 1
            if later:
                run.transaction([s for s in later if s.phase == AFTER], before_commit)
        except ConnectionFailed as lost:
            if not ran:
                raise
            raise ConnectionFailed(
                f"The connection to PostgreSQL was lost during the {what}, after part of it "
                "had committed; that part stays and could not be undone.",
                detail=f"{lost.detail or lost}. Run `reconciler plan` to see what is left.",
            ) from None
        except Exception as exc:
            if not ran:
                raise
            other = undo_for(frozenset(ran)) if undo_for is not None else None
            steps_back, note = other or ([s for s in undo if id(s.change) in ran], "")
            undo_committed(run, steps_back, exc, lock_budget, on_undone, note)
    finished = datetime.now(UTC)
    return Executed(started, finished, int((time.monotonic() - t0) * 1000), run.count)


def _rounds(steps: list[Step], *, together: bool) -> list[list[Step]]:
    """Cut `steps` into the rounds `_Run._round` sends: one statement each unless `together`."""
    if not together:
        return [[s] for s in steps]
    out: list[list[Step]] = []
    size = 0
    for step in steps:
        if not out or len(out[-1]) >= ROUND_STATEMENTS or size + len(step.sql) > ROUND_BYTES:
            out.append([])
            size = 0
        out[-1].append(step)
        size += len(step.sql)
    return out


class _Run:
    def __init__(self, conn: psycopg.Connection, timeouts: Timeouts, log: Log, what: str):
        self.conn, self.timeouts, self.log, self.what = conn, timeouts, log, what
        self.count = 0
        self._at: PlannedChange | None = None  # the change whose statement is running
        self.progress: Callable[[int, int], None] | None = None  # (statements run, of total)
        self.total = self.sent = 0
        self._at_round = 1  # statements running with it, in one message

    # --- one transaction ---------------------------------------------------------------------

    def transaction(self, steps: list[Step], before_commit: Callable[[], None]) -> None:
        """All of `steps` and `before_commit` in one transaction, retried when a lock was not
        obtained in time or when a statement must run before the others, on its own."""
        hoist, tries = False, 0
        while True:
            try:
                self.count += self._attempt(steps, before_commit, hoist=hoist)
                return
            except Failed as failed:
                hoistable = any(not s.transactional for s in steps)
                if failed.sqlstate in NEEDS_OUTSIDE and hoistable and not hoist:
                    hoist = True
                    self.log("retry with the statements that must run outside it first")
                    continue
                if self._may_retry(failed, tries):
                    tries += 1
                    continue
                raise Stopped(
                    f"{failed.head} The transaction was rolled back; " + self._kept(steps, hoist),
                    head=failed.head,
                ) from None

    def _may_retry(self, failed: Failed, tries: int) -> bool:
        if failed.sqlstate != LOCK_NOT_AVAILABLE or not failed.at_statement:
            return False
        if tries >= self.timeouts.lock_retries:
            return False
        pause = self.timeouts.retry_pause(tries)
        self.log(
            f"lock not obtained within lock_timeout; retry {tries + 1} of "
            f"{self.timeouts.lock_retries} in {pause:g} s"
        )
        time.sleep(pause)
        return True

    def _kept(self, steps: list[Step], hoist: bool) -> str:
        outside = sum(1 for s in steps if hoist and not s.transactional)
        if not outside:
            return "nothing was changed."
        return (
            f"nothing else was changed, but the {counted(outside, 'statement')} Postgres only runs "
            "outside a transaction (adding enum values) stay applied; they are harmless and "
            "idempotent, and a new plan will not repeat them."
        )

    def _attempt(self, steps: list[Step], before_commit: Callable[[], None], *, hoist: bool) -> int:
        conn, count = self.conn, 0
        self._at, self._at_round = None, 1
        self.sent = self.count  # a retried transaction starts again from what committed
        try:
            for step in (s for s in steps if hoist and not s.transactional):
                self._at = step.change
                self.log(f"run outside the transaction  {step.change.address}: {step.sql}")
                conn.execute(step.sql.encode())
                count += 1
            with conn.transaction():
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, true), "
                    "set_config('statement_timeout', %s, true), "
                    "set_config('search_path', %s, true)",
                    (*self.timeouts.session_values(), APPLY_SEARCH_PATH),
                )
                inside = [s for s in steps if s.transactional or not hoist]
                for rnd in _rounds(inside, together=self._together()):
                    self._at = rnd[0].change
                    count += self._round(rnd)
                    self._tick(len(rnd))
                self._at = None
                before_commit()
        except psycopg.Error as exc:
            raise failure(
                self._at,
                exc,
                conn=self.conn,
                what=self.what,
                at_round=self._at_round,
                lock_retries=self.timeouts.lock_retries,
            ) from None
        return count

    def _tick(self, n: int) -> None:
        self.sent += n
        if self.progress is not None:
            self.progress(min(self.sent, self.total), self.total)

    def _together(self) -> bool:
        # Before PostgreSQL 13 statement_timeout covered a whole multi-statement message.
        return self.conn.info.server_version >= 130000

    def _round(self, rnd: list[Step]) -> int:
        """Run `rnd` inside the open transaction: several statements in one message (one round
        trip; the server runs them in order and stops at the first error). Should one fail,
        the round is rolled back to its savepoint and run again one statement at a time, so
        that the failure names its statement — unless it was cancelled (statement_timeout,
        an interrupt): that is not waited for twice. Returns the statements run."""
        run = []
        for step in rnd:
            skip = step.sql.lstrip().startswith("--")
            self.log(f"{'skip  ' if skip else 'run   '} {step.change.address}: {step.sql}")
            if not skip:
                run.append(step)
        if len(run) > 1:
            body = "\n;\n".join(s.sql.rstrip().rstrip(";") for s in run)
            self._at_round = len(run)  # what a failure names while they run together
            # The savepoint on its own: the server parses a whole message before it runs any
            # of it, so a syntax error in one statement would leave no savepoint to go back to.
            self.conn.execute(f"SAVEPOINT {_ROUND}")
            try:
                self.conn.execute(f"{body}\n;\nRELEASE {_ROUND}".encode())
                self._at_round = 1
                return len(run)
            except psycopg.Error as exc:
                if self.conn.closed or self.conn.broken or exc.sqlstate == QUERY_CANCELED:
                    raise
                self._at_round = 1
                self.conn.execute(f"ROLLBACK TO {_ROUND}")
                self.log(
                    f"one of these {len(run)} statements failed ({pg_message(exc)}); rolled "
                    "back to before them, running them one at a time"
                )
        for step in run:
            self._at = step.change
            self.conn.execute(step.sql.encode())
        return len(run)

    # --- online statements -------------------------------------------------------------------

    def online(self, step: Step) -> None:
        """One statement on its own (autocommit), retried when its lock was not obtained; a
        failed attempt's leftovers (an invalid index) are removed before anything else."""
        tries = 0
        while True:
            try:
                self._session_timeouts()
                self.log(f"run online  {step.change.address}: {step.sql}")
                self.conn.execute(step.sql.encode())
                self.count += 1
                self._tick(1)
                return
            except psycopg.Error as exc:
                failed = failure(
                    step.change,
                    exc,
                    conn=self.conn,
                    what=self.what,
                    at_round=self._at_round,
                    lock_retries=self.timeouts.lock_retries,
                )
                if not isinstance(failed, Failed):
                    raise failed from None
                self._cleanup(step)
                if self._may_retry(failed, tries):
                    tries += 1
                    continue
                raise Stopped(failed.head, head=failed.head) from None
            finally:
                if not (self.conn.closed or self.conn.broken):
                    self.conn.execute("RESET lock_timeout; RESET statement_timeout")

    def _session_timeouts(self) -> None:
        self.conn.execute(
            "SELECT set_config('lock_timeout', %s, false), "
            "set_config('statement_timeout', %s, false)",
            self.timeouts.session_values(),
        )

    def _cleanup(self, step: Step) -> None:
        if step.cleanup is None or self.conn.closed or self.conn.broken:
            return
        self.log(f"clean up  {step.change.address}: {step.cleanup}")
        try:
            self.conn.execute(step.cleanup.encode())
        except psycopg.Error as exc:
            self.log(f"clean up failed: {pg_message(exc)}")
