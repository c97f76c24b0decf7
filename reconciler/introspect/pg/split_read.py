"""The catalog read shared between two connections in one exported snapshot (catalog.py
decides which queries each reads; reading.py holds the transaction both read in)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

import psycopg
from psycopg import pq, sql

from reconciler.errors import ConnectionFailed, ReconcilerError
from reconciler.introspect.pg.reading import (
    SET_PARAMS,
    SET_SQL,
    Rows,
    Sibling,
    begin_read,
    execute,
    reset_if_dropped,
)

_log = logging.getLogger(__name__)

OnRows = Callable[[int, Rows], None]  # (index of a query, its rows)


class SplitRead:
    """The kinds read on two connections, in one snapshot exported by the first.

    The first connection begins, exports its snapshot and reads its kinds; a thread imports the
    snapshot on the second connection and reads the rest. The first transaction stays open until
    the import is done (an exported snapshot lives only as long as its transaction). Whatever
    keeps the second connection from sharing the snapshot (it cannot be opened, the server does
    not export snapshots here) moves its kinds back onto the first connection.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        sibling: Sibling,
        queries: Sequence[str],
        params: dict[str, Any],
        side: Sequence[int],
        on_rows: OnRows | None = None,
    ) -> None:
        """`side`: the indexes in `queries` of those the second connection reads; `on_rows`
        is given each query's rows by the thread that read them, as soon as it has."""
        self.conn = conn
        self.sibling = sibling
        self.queries = queries
        self.params = params
        self.side = list(side)
        self.on_rows = on_rows
        self.rows: list[Rows | None] = [None] * len(queries)
        self.other: psycopg.Connection | None = None
        self.imported = threading.Event()  # the import is settled, either way
        self.shared = False  # the second connection reads in the first one's snapshot
        self.failure: BaseException | None = None

    def run(self) -> list[Rows]:
        opener = threading.Thread(target=self._open, name="catalog-open", daemon=True)
        opener.start()
        reader = None
        try:
            try:
                snapshot = self._begin()
            finally:
                opener.join()
            if snapshot is not None and self.other is not None:
                reader = threading.Thread(
                    target=self._read_side,
                    args=(sql.Literal(snapshot),),
                    name="catalog-read",
                    daemon=True,
                )
                reader.start()
            else:
                self.imported.set()
            self._read_main()
        finally:
            if reader is not None:
                reader.join()
            if self.other is not None:
                self.other.close()
        if self.failure is not None:
            raise self.failure
        assert all(rows is not None for rows in self.rows)
        return cast(list[Rows], self.rows)

    def _open(self) -> None:
        try:
            self.other = self.sibling()
        except (ReconcilerError, psycopg.Error, OSError) as exc:
            # No second connection (max_connections reached, a pooler that refuses it): the
            # first one reads everything. Said in the log; anything else is a bug and is raised.
            _log.info("reading the catalog on one connection: a second one failed: %s", exc)
            self.other = None
        except BaseException as exc:  # a bug: raised in the calling thread once it has read
            self.failure = exc
            self.other = None

    def _begin(self) -> str | None:
        """Begin the shared transaction; its exported snapshot, or None when there is none."""
        conn = self.conn
        try:
            with conn.pipeline():
                begin_read(conn)
                row = execute(conn, "SELECT pg_catalog.pg_export_snapshot()").fetchone()
        except psycopg.Error:
            if conn.broken:
                raise
            # e.g. a server that exports no snapshots: the failed transaction starts over
            conn.execute("ROLLBACK")
            with conn.pipeline():
                begin_read(conn)
            return None
        return row[0] if row else None

    def _read_side(self, snapshot: sql.Literal) -> None:
        other = self.other
        assert other is not None
        with reset_if_dropped(other):
            self._read_other(other, snapshot)

    def _read_other(self, other: psycopg.Connection, snapshot: sql.Literal) -> None:
        try:
            try:
                with other.pipeline():
                    execute(other, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    # a utility statement takes no bind parameters: the id goes in as a literal
                    execute(other, sql.SQL("SET TRANSACTION SNAPSHOT {}").format(snapshot))
                    execute(other, SET_SQL, SET_PARAMS)
                self.shared = True
            except psycopg.Error as exc:
                _log.info("reading the catalog on one connection: no shared snapshot: %s", exc)
                return  # not shared: the first connection reads these kinds too
            finally:
                self.imported.set()
            with other.pipeline():
                cursors = [(i, execute(other, self.queries[i], self.params)) for i in self.side]
                execute(other, "COMMIT")
            self._fetch(cursors)
        except BaseException as exc:  # re-raised in the calling thread
            if isinstance(exc, psycopg.OperationalError) and other.broken:
                exc = ConnectionFailed(
                    "Lost a connection to PostgreSQL while reading its catalog.",
                    detail=" ".join(str(exc).split()),
                )
            self.failure = exc

    def _read_main(self) -> None:
        conn = self.conn
        try:
            side = self.side
            mine = [i for i in range(len(self.queries)) if i not in side]
            with conn.pipeline():
                cursors = [(i, execute(conn, self.queries[i], self.params)) for i in mine]
            self.imported.wait()
            if not self.shared:
                with conn.pipeline():
                    cursors += [(i, execute(conn, self.queries[i], self.params)) for i in side]
            conn.execute("COMMIT")
        except BaseException:
            if not conn.closed and conn.info.transaction_status != pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
            raise
        self._fetch(cursors)

    def _fetch(self, cursors: list[tuple[int, psycopg.Cursor]]) -> None:
        for i, cur in cursors:
            self.rows[i] = rows = cur.fetchall()
            if self.on_rows is not None:
                self.on_rows(i, rows)
