"""Read the live PostgreSQL catalog into a PgSnapshot.

One catalog query per object kind (sql/<kind>.sql), the few small kinds read side by side in one
statement (STATEMENTS), sent together in pipeline mode and read in one snapshot; given a way to
open a second connection, the statements are shared between two connections that read the same
exported snapshot (as `pg_dump -j` does), so the server works on two at once.

The values come out in exactly the normalized forms the model documents, because a plan is empty
only when desired and live values are equal:

- every query runs with DEPARSE_SETTINGS (reading.py) in force, above all an empty search_path, so
  that format_type(), pg_get_expr() and pg_get_indexdef() schema-qualify all outside pg_catalog;
- options equal to the Postgres default are reported as the model's default (None, "asc", False).

Rows are plain tuples (never dict rows): on thousands of tables the Python side is the cost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import pq

from reconciler.errors import ConnectionFailed, LockHeld, ReconcilerError
from reconciler.introspect.pg.catalog_rows import KINDS, CatalogRows, kind_digest
from reconciler.introspect.pg.reading import (
    PART_COLUMN,
    PARTS_COLUMN,
    READ_LOCK_TIMEOUT,
    Rows,
    Sibling,
    autocommit,
    read_in_callers_transaction,
    read_in_own_transaction,
    reset_if_dropped,
)
from reconciler.introspect.pg.split_read import OnRows, SplitRead
from reconciler.model.names import TOOL_SCHEMAS
from reconciler.project.scope import EVERY_SCHEMA, Scope

if TYPE_CHECKING:
    from reconciler.model.snapshot import PgSnapshot

# Never part of any scope, even when named: the tool's own state and quarantine schemas. The
# system schemas (pg_*, information_schema) are excluded too; `pg_*` is matched in the SQL itself.
_EXCLUDED_SCHEMAS = ("information_schema", *TOOL_SCHEMAS)

_SQL_DIR = Path(__file__).with_name("sql")

# The statements a read sends, each reading one kind or, side by side, several (reading.py's
# parts): the kinds that hold few rows even in a large schema share one, so that thirteen kinds
# take ten statements, each planned and run by the server once.
_SMALL = ("triggers", "rules", "aggregates", "fingerprint")
STATEMENTS: tuple[tuple[str, ...], ...] = (
    *((kind,) for kind in KINDS if kind not in _SMALL),
    _SMALL,
)
# The same without the fingerprint kind: a read that builds a snapshot and never a digest (the
# probes' reads of their scratch schemas, an apply's read back) spares the server the sum of
# every catalog of the database. Its rows of that kind are empty.
_UNFINGERPRINTED: tuple[tuple[str, ...], ...] = tuple(
    tuple(kind for kind in kinds if kind != "fingerprint") for kinds in STATEMENTS
)

# pg_index.indnullsnotdistinct exists from PostgreSQL 15 on; older servers read a constant false.
_PG15_ONLY_COLUMN = re.compile(r"\b\w+\.indnullsnotdistinct\b")
# pg_proc.prosqlbody (SQL-standard bodies) and pg_attribute.attcompression exist from
# PostgreSQL 14 on.
_PG14_ONLY_COLUMN = re.compile(r"\b\w+\.(?:prosqlbody|attcompression)\b")
_PG14_ONLY_FUNCTION = re.compile(r"\bpg_catalog\.pg_get_function_sqlbody\(\w+\.oid\)")

# The kinds a second connection reads when one can be opened: half of the server's work on a
# schema of many tables, measured at 1,000 and 5,000 tables (columns and indexes, two thirds
# of it, on one; tables, constraints and the walk of unsupported.sql on the other).
_SIDE_KINDS = frozenset({"objects", "tables", "constraints", "policies", "unsupported"})


def introspect(
    conn: psycopg.Connection,
    *,
    schemas: Sequence[str] | None = None,
    scope: Scope = EVERY_SCHEMA,
    sibling: Sibling | None = None,
) -> PgSnapshot:
    """The live state of `schemas` (None: every non-system schema) less what `scope` leaves out.

    On a connection with no transaction open, the reads run in their own REPEATABLE READ READ ONLY
    transaction, so all kinds come from one snapshot. Inside the caller's open transaction they run
    behind a savepoint that is rolled back afterwards: the caller's settings come back unchanged
    and the transaction stays open (its isolation level then decides the snapshot).

    `sibling` opens another connection to the same database: with no transaction open, half of
    the kinds are read on it, in the same snapshot. When it cannot be opened, or the snapshot
    cannot be shared, everything is read on `conn` as if none had been given.
    """
    rows = read_catalog(conn, schemas=schemas, scope=scope, sibling=sibling, fingerprint=False)
    return rows.snapshot()


def read_catalog(
    conn: psycopg.Connection,
    *,
    schemas: Sequence[str] | None = None,
    scope: Scope = EVERY_SCHEMA,
    sibling: Sibling | None = None,
    hash_rows: bool = False,
    fingerprint: bool = True,
) -> CatalogRows:
    """The rows `introspect` builds its snapshot from (same scope, same transaction rules).

    `hash_rows`: the digest will be asked for; shared with a sibling, each connection's thread
    hashes its kinds as soon as it has read them, while the other may still be reading.
    `fingerprint`: read the fingerprint kind, without which there is no digest."""
    if isinstance(schemas, str):
        raise TypeError("schemas must be a sequence of schema names, not one string")
    params = {
        "schemas": None if schemas is None else list(schemas),
        "excluded": list(_EXCLUDED_SCHEMAS),
        "out_of_scope": scope.like_patterns(),
    }
    version = conn.info.server_version
    statements = STATEMENTS if fingerprint else _UNFINGERPRINTED
    hashed: dict[str, bytes] = {}

    def hash_statement(i: int, statement_rows: Rows) -> None:
        for kind, rows in _by_kind(statements[i], statement_rows).items():
            hashed[kind] = kind_digest(rows)  # each kind by one thread only

    try:
        read, readers = _read(
            conn,
            _queries(version, fingerprint),
            params,
            sibling,
            hash_statement if hash_rows else None,
        )
    except psycopg.errors.LockNotAvailable:
        if conn.broken:
            raise
        raise _lock_held(conn) from None
    except psycopg.OperationalError as e:
        if not conn.broken:
            raise  # e.g. a statement timeout: the caller's to explain
        raise ConnectionFailed(
            "Lost the connection to PostgreSQL while reading its catalog.",
            detail=" ".join(str(e).split()),  # libpq's message spans lines
        ) from e
    rows: dict[str, Rows] = {}
    for kinds, statement_rows in zip(statements, read, strict=True):
        rows.update(_by_kind(kinds, statement_rows))
    return CatalogRows(
        {kind: rows.get(kind, []) for kind in KINDS}, version, readers, fingerprint, hashed
    )


_HOLDERS_SQL = """
SELECT pg_catalog.format('%I.%I', n.nspname, c.relname), l.pid,
       coalesce(a.application_name, ''), l.mode
FROM pg_catalog.pg_locks AS l
JOIN pg_catalog.pg_class AS c ON c.oid = l.relation
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.granted AND l.mode = 'AccessExclusiveLock'
  AND l.database = (SELECT d.oid FROM pg_catalog.pg_database AS d
                    WHERE d.datname = pg_catalog.current_database())
  AND l.pid <> pg_catalog.pg_backend_pid()
ORDER BY l.pid, 1
LIMIT 3
"""


def _lock_held(conn: psycopg.Connection) -> LockHeld:
    """The catalog read waited READ_LOCK_TIMEOUT for a table another session holds
    exclusively: who holds what, as far as the server still shows it."""
    try:
        with conn.transaction():  # (a savepoint inside a caller's transaction)
            holders = conn.execute(_HOLDERS_SQL).fetchall()
    except psycopg.Error:
        holders = []
    waited = f"Reading the catalog waited {READ_LOCK_TIMEOUT} for a table"
    detail = "Nothing was changed. Run again once that session is done."
    if not holders:
        return LockHeld(f"{waited} another session held exclusively.", detail=detail)
    held = "; ".join(
        f"{rel} is held by pid {pid}" + (f" ({app})" if app else "") for rel, pid, app, _ in holders
    )
    return LockHeld(f"{waited} another session holds exclusively: {held}.", detail=detail)


def read_fingerprint(conn: psycopg.Connection) -> Rows:
    """The fingerprint kind's rows as they are now, in a read of their own (an autocommit
    connection with no transaction open): equal to a CatalogRows' own, compared as sets, when
    no catalog row of the database changed since it was read."""
    queries = [kind_queries(conn.info.server_version)["fingerprint"]]
    return read_in_own_transaction(conn, queries, {})[0]


def _by_kind(kinds: tuple[str, ...], statement_rows: Rows) -> dict[str, Rows]:
    """The rows of each kind a statement read (reading.py's parts when it read several)."""
    if len(kinds) == 1:
        return {kinds[0]: statement_rows}
    parts: list[Rows] = [[] for _ in kinds]
    for part, values in statement_rows:
        if values is not None:  # not a part's empty filler
            parts[part].append(values)
    return dict(zip(kinds, parts, strict=True))


def _sql(name: str) -> str:
    return (_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _fragment(name: str) -> str:
    """A shared fragment without its leading comment lines."""
    lines = _sql(name).splitlines()
    return "\n".join(line for line in lines if not line.startswith("--"))


@cache
def _queries(server_version: int, fingerprint: bool = True) -> tuple[str, ...]:
    """The statements of STATEMENTS (without the fingerprint kind: of _UNFINGERPRINTED), in
    order, for a server of this version."""
    texts = kind_queries(server_version)
    statements = STATEMENTS if fingerprint else _UNFINGERPRINTED
    return tuple(_side_by_side([texts[kind] for kind in kinds]) for kinds in statements)


@cache
def kind_queries(server_version: int) -> dict[str, str]:
    """Each kind's own query, for a server of this version."""
    # The scope (which schemas, which tables) is written once, in _scope.sql / _tables.sql, and
    # spliced into every kind's query, so all kinds agree on what is in scope.
    shared = {
        # first: these hold markers of their own, replaced by the ones after them
        "/*@unmodelled*/": _fragment("_unmodelled"),
        "/*@needs_of*/": _fragment("_needs_of"),
        "/*@scope*/": _sql("_scope"),
        "/*@tables*/": _sql("_tables"),
        "/*@modelled_routine*/": _fragment("_modelled_routine"),
        "/*@modelled_trigger*/": _fragment("_modelled_trigger"),
    }
    texts = {}
    for kind in KINDS:
        text = _sql(kind)
        for marker, fragment in shared.items():
            text = text.replace(marker, fragment.rstrip("\n"))
        if server_version < 150000:
            text = _PG15_ONLY_COLUMN.sub("false", text)
        if server_version < 140000:
            text = _PG14_ONLY_COLUMN.sub("NULL", text)
            text = _PG14_ONLY_FUNCTION.sub("NULL", text)
        texts[kind] = text
    return texts


def _side_by_side(queries: Sequence[str]) -> str:
    """One statement reading `queries` as reading.py's parts (one query: itself). A row of the
    values list per part joins, laterally, that part's query gated on its number, so each query
    runs once and keeps its own column types; a part without rows leaves one row of NULLs."""
    if len(queries) == 1:
        return queries[0]
    parts = range(len(queries))
    lines = [
        f"SELECT k.part AS {PARTS_COLUMN}, " + ", ".join(f"p{i}.*" for i in parts),
        "FROM (VALUES " + ", ".join(f"({i})" for i in parts) + ") AS k (part)",
    ]
    for i, text in enumerate(queries):
        lines += [
            f"LEFT JOIN LATERAL (SELECT true AS {PART_COLUMN}, q.* FROM (",
            text.rstrip(),  # may end in a comment: the parenthesis goes on a line of its own
            f") AS q WHERE k.part = {i}) AS p{i} ON true",
        ]
    return "\n".join(lines)


# --- reading ---------------------------------------------------------------------------------


def _read(
    conn: psycopg.Connection,
    queries: Sequence[str],
    params: dict[str, Any],
    sibling: Sibling | None = None,
    on_rows: OnRows | None = None,
) -> tuple[list[Rows], int]:
    """The rows of every query, and how many connections read them. `on_rows(i, rows)` is
    called by the thread that read query i, once it has (only when shared with a sibling:
    alone, nothing else runs meanwhile)."""
    with reset_if_dropped(conn):
        return _read_on(conn, queries, params, sibling, on_rows)


def _read_on(
    conn: psycopg.Connection,
    queries: Sequence[str],
    params: dict[str, Any],
    sibling: Sibling | None,
    on_rows: OnRows | None,
) -> tuple[list[Rows], int]:
    status = conn.info.transaction_status
    if status == pq.TransactionStatus.INTRANS:
        return read_in_callers_transaction(conn, queries, params), 1
    if status != pq.TransactionStatus.IDLE:
        raise ReconcilerError(
            "Cannot read the catalog: the connection is busy or its transaction has failed.",
            detail="Roll back or finish the current transaction before introspecting.",
        )
    with autocommit(conn):
        if sibling is not None:
            side = [i for i, kinds in enumerate(STATEMENTS) if _SIDE_KINDS.issuperset(kinds)]
            split = SplitRead(conn, sibling, queries, params, side, on_rows)
            return split.run(), 2 if split.shared else 1
        return read_in_own_transaction(conn, queries, params), 1
