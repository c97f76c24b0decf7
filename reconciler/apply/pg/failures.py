"""What a failed statement means: whether to retry it, run it outside a transaction, or stop,
and the sentence it becomes (the change it belongs to and the server's own words).

Must not: run anything; executor.py decides what to do with the answer.
"""

from __future__ import annotations

import psycopg

from reconciler.errors import ConnectionFailed, ReconcilerError
from reconciler.plan import PlannedChange

# "unsafe use of new value of enum type" / "cannot run inside a transaction block"
NEEDS_OUTSIDE = frozenset({"55P04", "25001"})
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"


class Stopped(ReconcilerError):
    """A transaction or statement that failed; `head` says where and why alone."""

    def __init__(self, summary: str, *, head: str) -> None:
        super().__init__(summary)
        self.head = head


class Failed(Exception):
    """A statement failed; `head` says where and why, the caller says what was kept."""

    def __init__(self, head: str, sqlstate: str | None, at_statement: bool) -> None:
        super().__init__(head)
        self.head = head
        self.sqlstate = sqlstate
        self.at_statement = at_statement


def failure(
    change: PlannedChange | None,
    exc: psycopg.Error,
    *,
    conn: psycopg.Connection,
    what: str,
    at_round: int,
    lock_retries: int,
) -> Exception:
    """What a failed statement becomes: ConnectionFailed when the connection is gone, else a
    Failed saying where (the change, or the round it was sent in) and why."""
    if isinstance(exc, psycopg.OperationalError) and (conn.closed or conn.broken):
        return ConnectionFailed(
            f"The connection to PostgreSQL was lost during the {what}; the "
            "transaction was not committed, so nothing of it was applied.",
            detail=pg_message(exc),
        )
    where = f" at {change.address}" if change else " while recording state"
    if change and at_round > 1:
        where = f" at {change.address} or one of the {at_round - 1} statements after it"
    hint = ""
    if exc.sqlstate == LOCK_NOT_AVAILABLE:
        hint = (
            f" (a table lock could not be taken within lock_timeout, "
            f"{lock_retries} retries included; retry when it is quieter)"
        )
    head = f"The {what} failed{where}: {pg_message(exc)}{hint}."
    return Failed(head, exc.sqlstate, change is not None)


DEPENDENT_OBJECTS = "2BP01"  # "cannot drop … because other objects depend on it"


def pg_message(exc: psycopg.Error) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag else None
    text = (primary or str(exc)).strip().splitlines()[0]
    detail = getattr(diag, "message_detail", None) if diag else None
    if exc.sqlstate == DEPENDENT_OBJECTS and detail:
        # The server names the dependents only in the detail, one per line: say them.
        return f"{text} ({'; '.join(line.strip() for line in detail.splitlines())})"
    return text
