"""The catalog read shared between two connections in one exported snapshot.

Whatever the split, the rows must be exactly those one connection reads; a change committed
while the second connection opens must be invisible to both; and whatever keeps the second
connection from helping (no connection, a failure on it) must leave no transaction open.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial

import psycopg
import pytest
from psycopg import pq

from reconciler.introspect.pg import catalog as postgres
from reconciler.introspect.pg.catalog import read_catalog

SCHEMA = """
    CREATE TYPE public.mood AS ENUM ('ok', 'sad');
    CREATE TABLE public.parents (id integer PRIMARY KEY, name text UNIQUE, m public.mood);
    CREATE TABLE public.children (
        id integer PRIMARY KEY,
        parent_id integer REFERENCES public.parents (id),
        v integer CHECK (v > 0)
    );
    CREATE INDEX idx_children_v ON public.children (v);
    CREATE VIEW public.v_children AS SELECT id, v FROM public.children;
    CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS
        $$BEGIN RETURN NEW; END$$;
    CREATE TRIGGER trg_touch BEFORE UPDATE ON public.children
        FOR EACH ROW EXECUTE FUNCTION public.touch();
    ALTER TABLE public.children ENABLE ROW LEVEL SECURITY;
    CREATE POLICY p_all ON public.children USING (v > 0);
    COMMENT ON TABLE public.parents IS 'the parents';
"""


def _sibling(url: str) -> Callable[[], psycopg.Connection]:
    return partial(psycopg.connect, url, autocommit=True)


def test_split_read_equals_the_single_connection_read(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        alone = read_catalog(conn)
        split = read_catalog(conn, sibling=_sibling(pg_url))

        assert (alone.readers, split.readers) == (1, 2)
        assert split.rows == alone.rows  # same rows, each kind in the same order
        assert split.digest() == alone.digest()
        assert split.snapshot() == alone.snapshot()
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE


def test_kinds_hashed_by_the_reading_threads_give_the_same_digest(pg_url: str) -> None:
    """hash_rows: each connection's thread hashes the kinds it read (every kind, when the read
    is shared); the digest is the one worked out from the rows afterwards, and still tells
    a changed catalog apart."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        later = read_catalog(conn, sibling=_sibling(pg_url))
        hashed = read_catalog(conn, sibling=_sibling(pg_url), hash_rows=True)
        assert later.hashed == {} and set(hashed.hashed) == set(postgres.KINDS)
        assert hashed.hashed == {k: postgres.kind_digest(r) for k, r in later.rows.items()}
        assert hashed.digest() == later.digest() == read_catalog(conn, hash_rows=True).digest()
        conn.execute("COMMENT ON TABLE public.parents IS 'changed'")
        changed = read_catalog(conn, sibling=_sibling(pg_url), hash_rows=True)
        assert changed.digest() != hashed.digest()


def test_both_connections_read_one_snapshot(pg_url: str) -> None:
    """A table committed after the first connection took its snapshot, while the second one
    was still connecting, is in neither connection's rows (tables and columns are read on
    the first, constraints and indexes on the second)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.early (id integer PRIMARY KEY)")
        pid = conn.info.backend_pid

        def late_sibling() -> psycopg.Connection:
            with psycopg.connect(pg_url, autocommit=True) as watcher:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:  # the first one holds its snapshot
                    row = watcher.execute(
                        "SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)
                    ).fetchone()
                    if row and row[0] == "idle in transaction":
                        break
                    time.sleep(0.005)
                else:
                    raise AssertionError("the first connection never began its read")
                watcher.execute("CREATE TABLE public.late (id integer PRIMARY KEY)")
            return psycopg.connect(pg_url, autocommit=True)

        rows = read_catalog(conn, sibling=late_sibling)

        assert rows.readers == 2
        snap = rows.snapshot()
        assert list(snap.tables) == [("public", "early")]
        assert [i for i in snap.indexes if "late" in str(i)] == []
        text = repr(rows.rows)
        assert "early" in text and "late" not in text
        assert "late" in repr(read_catalog(conn).rows)  # committed all along


def test_no_second_connection_reads_everything_on_the_first(pg_url: str) -> None:
    def refused() -> psycopg.Connection:
        raise psycopg.OperationalError("too many connections")

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        rows = read_catalog(conn, sibling=refused)

        assert rows.readers == 1
        assert rows.digest() == read_catalog(conn).digest()
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE


def test_a_bug_opening_the_second_connection_is_raised_not_swallowed(pg_url: str) -> None:
    """Only a refused connection means "read on one"; anything else is a bug and surfaces."""

    def broken() -> psycopg.Connection:
        raise TypeError("a bug in the sibling factory")

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        with pytest.raises(TypeError, match="a bug in the sibling factory"):
            read_catalog(conn, sibling=broken)
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE


def test_a_snapshot_that_cannot_be_shared_reads_everything_on_the_first(pg_url: str) -> None:
    """The second connection opens but cannot import the snapshot (here: it is in a
    transaction already): its kinds are read on the first connection, in its snapshot."""

    def busy() -> psycopg.Connection:
        other = psycopg.connect(pg_url, autocommit=True)
        other.execute("BEGIN")
        other.execute("SELECT 1")
        return other

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        rows = read_catalog(conn, sibling=busy)

        assert rows.readers == 1
        assert rows.digest() == read_catalog(conn).digest()
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE


def test_a_failure_on_the_second_connection_is_raised_and_nothing_stays_open(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(pg_url) as probe:
        queries = list(postgres._queries(probe.info.server_version))
    queries[postgres.STATEMENTS.index(("tables",))] = "SELECT 1 / 0"  # read on the second
    monkeypatch.setattr(postgres, "_queries", lambda server_version, *_: tuple(queries))
    opened: list[psycopg.Connection] = []

    def tracked() -> psycopg.Connection:
        opened.append(psycopg.connect(pg_url, autocommit=True))
        return opened[-1]

    with psycopg.connect(pg_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            read_catalog(conn, sibling=tracked)

        assert conn.info.transaction_status == pq.TransactionStatus.IDLE
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert len(opened) == 1 and opened[0].closed


def test_inside_the_callers_transaction_only_that_connection_reads(pg_url: str) -> None:
    called = threading.Event()

    def sibling() -> psycopg.Connection:
        called.set()
        return psycopg.connect(pg_url, autocommit=True)

    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE public.uncommitted (id integer)")
        rows = read_catalog(conn, sibling=sibling)

        assert rows.readers == 1 and not called.is_set()
        assert list(rows.snapshot().tables) == [("public", "uncommitted")]  # its own work
        assert conn.info.transaction_status == pq.TransactionStatus.INTRANS
