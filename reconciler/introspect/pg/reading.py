"""The read transaction every catalog read runs in, on one connection.

Owns: DEPARSE_SETTINGS (the server settings under which types and expressions are deparsed),
the settings a read sets transaction-locally, BEGIN ... REPEATABLE READ READ ONLY, reading in
an own transaction or behind a savepoint in the caller's, autocommit for a while, and
executing with tuple rows, and the rows of a statement that reads several parts (below). Must
not: know which queries are read (catalog.py) or share a read between connections
(split_read.py); both use this module.

A statement whose first column is named PARTS_COLUMN reads several parts, side by side: that
column holds a row's part (0, 1, …), each part's columns start with a column named PART_COLUMN
(true in that part's rows), and a row is given as (part, that part's values), or (part, None)
when it is a part's empty filler (a part with no rows still has one row, all NULL).
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import pq
from psycopg.rows import RowMaker

from reconciler.connect import LITERAL_SETTINGS
from reconciler.introspect.pg.catalog_rows import Rows

# Server settings that change how types and expressions are deparsed. They are set transaction-
# locally for the duration of the read; whoever asks the server to deparse desired-state text
# must use the same ones, or equal objects would print differently.
DEPARSE_SETTINGS: dict[str, str] = {
    "search_path": "",  # qualify every name outside pg_catalog
    "quote_all_identifiers": "off",
    **LITERAL_SETTINGS,  # date/time constants in defaults and checks (every connection's)
    "extra_float_digits": "1",
    "bytea_output": "hex",
}

_SAVEPOINT = "reconciler_introspect"
# Reading a table's defaults and checks takes a share lock on it: behind a session holding it
# exclusively (a long migration), the read waits this long, then says who holds it
# (catalog.read_catalog), rather than waiting without a word.
READ_LOCK_TIMEOUT = "30s"
# The read's own bound, over a statement_timeout set for the role or database to guard an
# application's queries, which cut catalog queries at random.
READ_STATEMENT_TIMEOUT = "10min"
# The reads themselves run without JIT: the recursive walk of unsupported.sql is estimated far
# above jit_above_cost while it reads a few rows, and compiling it took seconds.
_READ_SETTINGS = {
    **DEPARSE_SETTINGS,
    "jit": "off",
    "lock_timeout": READ_LOCK_TIMEOUT,
    "statement_timeout": READ_STATEMENT_TIMEOUT,
}
SET_SQL = "SELECT " + ", ".join("pg_catalog.set_config(%s, %s, true)" for _ in _READ_SETTINGS)
SET_PARAMS = [v for item in _READ_SETTINGS.items() for v in item]


PARTS_COLUMN = "reconciler_part"
PART_COLUMN = "reconciler_part_start"


Sibling = Callable[[], psycopg.Connection]


@contextmanager
def reset_if_dropped(conn: psycopg.Connection) -> Iterator[None]:
    """While the catalog is read, a process that ends without closing the connection (killed,
    or its interpreter leaving a reading thread on a Ctrl-C) resets it, and the server ends
    its session at once. The queries go to the server in one pipeline; while the session waits
    for a lock (a table held by a migration) the server reads no more of them, the client's
    kernel holds the rest, and an ordinary close waits behind that data: the session would
    queue behind the lock until the read's lock timeout. The ordinary close comes back once
    the read has ended (an error too leaves the reset: the connection is done with). A Unix
    socket needs none of this."""
    sock = _tcp_socket(conn)
    if sock is None:
        yield
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        yield
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 0, 0))
    finally:
        sock.close()  # a duplicate of the connection's descriptor: the connection stays open


def _tcp_socket(conn: psycopg.Connection) -> socket.socket | None:
    """The connection's TCP socket, on a descriptor of its own (options set through it are
    the socket's); None for a Unix socket, or when it cannot be had."""
    try:
        sock = socket.socket(fileno=os.dup(conn.pgconn.socket))
    except (OSError, psycopg.Error):
        return None
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        return sock
    sock.close()
    return None


@contextmanager
def autocommit(conn: psycopg.Connection) -> Iterator[None]:
    """Autocommit for a while, so our explicit BEGIN can carry the isolation level we need."""
    if conn.autocommit:
        yield
        return
    conn.autocommit = True
    try:
        yield
    finally:
        if not conn.closed:
            conn.autocommit = False


def read_in_own_transaction(
    conn: psycopg.Connection, queries: Sequence[str], params: dict[str, Any]
) -> list[Rows]:
    try:
        with conn.pipeline():
            begin_read(conn)
            cursors = [execute(conn, q, params) for q in queries]
            execute(conn, "COMMIT")
    except BaseException:
        # an error inside the pipeline skips the COMMIT: end the failed transaction ourselves
        if not conn.closed and conn.info.transaction_status != pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        raise
    return [cur.fetchall() for cur in cursors]


def begin_read(conn: psycopg.Connection) -> None:
    execute(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    execute(conn, SET_SQL, SET_PARAMS)


def read_in_callers_transaction(
    conn: psycopg.Connection, queries: Sequence[str], params: dict[str, Any]
) -> list[Rows]:
    # Rolling back to a savepoint undoes set_config(..., true) made after it, so the caller's
    # search_path and other settings come back exactly, and a failed read leaves the caller's
    # transaction usable rather than aborted.
    try:
        with conn.pipeline():
            execute(conn, f"SAVEPOINT {_SAVEPOINT}")
            execute(conn, SET_SQL, SET_PARAMS)
            cursors = [execute(conn, q, params) for q in queries]
            execute(conn, f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            execute(conn, f"RELEASE SAVEPOINT {_SAVEPOINT}")
    except BaseException:
        if not conn.closed and conn.info.transaction_status == pq.TransactionStatus.INERROR:
            conn.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            conn.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        raise
    return [cur.fetchall() for cur in cursors]


def _rows(cursor: Any) -> RowMaker[Any]:
    """Tuples, or (part, values) for a statement that reads several parts (see above)."""
    columns = cursor.description
    if not columns or columns[0].name != PARTS_COLUMN:
        return tuple  # psycopg's tuple_row: its C code takes the fast path on `tuple` itself
    starts = [i for i, column in enumerate(columns) if column.name == PART_COLUMN]
    ends = [*starts[1:], len(columns)]

    def part_row(values: Sequence[Any]) -> tuple[int, tuple[Any, ...] | None]:
        part = values[0]
        start = starts[part]
        return part, tuple(values[start + 1 : ends[part]]) if values[start] else None

    return part_row


def execute(conn: psycopg.Connection, query: str, params: Any = None) -> psycopg.Cursor:
    # tuple rows whatever row_factory the caller gave the connection
    cur = conn.cursor(row_factory=_rows)
    cur.execute(query, params)  # type: ignore[arg-type]  # our own static SQL files
    return cur
