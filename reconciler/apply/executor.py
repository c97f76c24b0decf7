"""Run a plan's statements in one transaction, under the lock, recording state in it.

The DDL and the state rows commit together or not at all. Before the transaction an attempt
row is written on its own (autocommit), so a run killed mid-way leaves a record saying so;
the transaction itself dies with the connection and Postgres rolls it back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from reconciler.errors import ConnectionFailed, ReconcilerError
from reconciler.plan import PlannedChange, Step


@dataclass(frozen=True, slots=True)
class Timeouts:
    lock_timeout: str = "5s"  # how long one DDL statement may wait for a table lock
    statement_timeout: str = "30min"


@dataclass(frozen=True, slots=True)
class Executed:
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    statements: int


def run_statements(
    conn: psycopg.Connection,
    steps: list[Step],
    *,
    timeouts: Timeouts,
    log: Callable[[str], None],
    before_commit: Callable[[], None],
) -> Executed:
    """Execute `steps` in one transaction; `before_commit` records state in that transaction.

    Statements Postgres refuses to run usefully inside a transaction (adding an enum value that
    later statements use) run first, each on its own and logged; they are idempotent
    (IF NOT EXISTS) and only ever touch objects that existed before the plan.
    """
    started = datetime.now(UTC)
    t0 = time.monotonic()
    count = 0
    current: PlannedChange | None = None
    try:
        for step in (s for s in steps if not s.transactional):
            current = step.change
            log(f"run outside the transaction  {step.change.address}: {step.sql}")
            conn.execute(step.sql.encode())
            count += 1
        with conn.transaction():
            conn.execute(
                "SELECT set_config('lock_timeout', %s, true), "
                "set_config('statement_timeout', %s, true), "
                "set_config('search_path', 'public', true)",
                (timeouts.lock_timeout, timeouts.statement_timeout),
            )
            for step in (s for s in steps if s.transactional):
                current = step.change
                if step.sql.lstrip().startswith("--"):
                    log(f"skip   {step.change.address}: {step.sql}")
                    continue
                log(f"run    {step.change.address}: {step.sql}")
                conn.execute(step.sql.encode())
                count += 1
            current = None
            before_commit()
    except psycopg.OperationalError as exc:
        if conn.closed or conn.broken:
            raise ConnectionFailed(
                "The connection to PostgreSQL was lost during the apply; the transaction was "
                "not committed, so nothing of it was applied.",
                detail=_pg_message(exc),
            ) from None
        raise _failed(current, exc) from None
    except psycopg.Error as exc:
        raise _failed(current, exc) from None
    finished = datetime.now(UTC)
    return Executed(started, finished, int((time.monotonic() - t0) * 1000), count)


def _pg_message(exc: psycopg.Error) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag else None
    return (primary or str(exc)).strip().splitlines()[0]


def _failed(change: PlannedChange | None, exc: psycopg.Error) -> ReconcilerError:
    where = f" at {change.address}" if change else " while recording state"
    hint = ""
    if getattr(exc, "sqlstate", None) == "55P03":
        hint = " (a table lock could not be taken within lock_timeout; retry when it is quieter)"
    return ReconcilerError(
        f"The apply failed{where}: {_pg_message(exc)}{hint}. The transaction was rolled back; "
        "nothing was changed.",
    )
