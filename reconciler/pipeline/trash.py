"""The trash schema: which drops keep their data, what is kept, and purging it.

Drop modes (plan/apply `--drop-mode`):
- `auto` (the default): drops of tables holding rows, and of columns of such tables, keep
  their data in `reconciler_trash` (ops/pg/trash.py); empty tables are dropped outright;
- `quarantine`: every table and column drop keeps its data;
  (a table rebuilt in a new shape, diff/rebuilds.py, has its rows carried over the same way);
- `drop`: nothing is kept (a rollback brings empty tables and columns back).
Whether a table holds rows is one query for all candidate tables (`EXISTS` per table: no
table is read further than its first row).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from reconciler.diff.context import Trash
from reconciler.diff.rebuilds import rebuilt_tables
from reconciler.errors import InputError
from reconciler.introspect.pg.per_table import per_table
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.pg.trash import TRASH_SCHEMA

if TYPE_CHECKING:
    import psycopg


def policy(
    conn: psycopg.Connection,
    desired: PgSnapshot,
    live: PgSnapshot,
    mode: str,
    seed: Callable[[], str],
) -> Trash | None:
    """Which tables' drops keep their data; `seed()` (the plan's inputs) names the trash."""
    if mode == "drop":
        return None
    candidates = []
    rebuilt = rebuilt_tables(desired, live)  # their rows are carried over (diff/carry.py)
    for key, t in live.tables.items():
        want = desired.tables.get(key)
        if want is None or key in rebuilt or any(want.column(c.name) is None for c in t.columns):
            candidates.append(key)
    if not candidates:
        return None
    tables = set(candidates) if mode == "quarantine" else holding_rows(conn, candidates)
    token = hashlib.sha256(seed().encode()).hexdigest()[:12]
    return Trash(token, frozenset(tables))


def holding_rows(conn: psycopg.Connection, tables: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The tables with at least one row; all of them when that cannot be read (safe side)."""
    import psycopg  # deferred: start-up: psycopg

    try:
        held = per_table(conn, tables, "EXISTS (SELECT FROM {table})")
    except psycopg.Error:
        return set(tables)
    return {key for key, yes in held.items() if yes}


@dataclass(frozen=True, slots=True)
class Kept:
    """One trash table: what it holds, since when, and its size."""

    name: str
    kind: str  # table | column
    address: str  # schema.table or schema.table.column
    dropped_at: datetime | None
    bytes: int

    def to_dict(self) -> dict[str, object]:
        return {
            "name": f"{TRASH_SCHEMA}.{self.name}",
            "kind": self.kind,
            "object": self.address,
            "dropped_at": self.dropped_at.isoformat() if self.dropped_at else None,
            "bytes": self.bytes,
        }


_LIST = """
SELECT c.relname, obj_description(c.oid, 'pg_class'), pg_total_relation_size(c.oid)
FROM pg_catalog.pg_class c
WHERE c.relnamespace = to_regnamespace(%s) AND c.relkind IN ('r', 'p')
ORDER BY c.relname
"""


def kept(conn: psycopg.Connection) -> list[Kept]:
    """Every table in the trash schema, oldest drop first (unknown times last)."""
    out = []
    for name, comment, size in conn.execute(_LIST, (TRASH_SCHEMA,)).fetchall():
        try:
            record = json.loads(comment or "{}")
        except json.JSONDecodeError:
            record = {}
        parts = [record.get(k) for k in ("schema", "table", "column") if record.get(k)]
        at = record.get("dropped_at")
        out.append(
            Kept(
                name=name,
                kind=record.get("kind", "unknown"),
                address=".".join(parts) or "?",
                dropped_at=datetime.fromisoformat(at) if at else None,
                bytes=int(size),
            )
        )
    return sorted(out, key=lambda k: (k.dropped_at is None, k.dropped_at or datetime.min, k.name))


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `45s`, `2w` → timedelta."""
    m = _DURATION.match(text)
    if m is None:
        raise InputError(
            f"--older-than {text!r} is not a duration; write a number and a unit, like 7d, "
            "12h, 30m, 45s or 2w."
        )
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


def purge(conn: psycopg.Connection, older_than: timedelta) -> list[Kept]:
    """Drop the trash tables dropped longer ago than `older_than` (in one transaction);
    entries without a readable drop time are kept. The schema goes once it is empty."""
    from psycopg import sql  # deferred: start-up: psycopg

    with conn.transaction():
        now = conn.execute("SELECT now()").fetchone()[0]
        gone = [
            k for k in kept(conn) if k.dropped_at is not None and k.dropped_at <= now - older_than
        ]
        for k in gone:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(TRASH_SCHEMA, k.name)))
        if gone and not kept(conn):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {}").format(sql.Identifier(TRASH_SCHEMA)))
    return gone


# A trash table named in a plan's SQL: quoted as ident() writes it, or bare; and created.
_CREATED = re.compile(r'CREATE TABLE ("' + TRASH_SCHEMA + r'"\."(?:[^"]|"")+")')
_REFERENCE = re.compile(
    r'"' + TRASH_SCHEMA + r'"\."((?:[^"]|"")+)"|\b' + TRASH_SCHEMA + r"\.([a-z_][a-z0-9_$]*)"
)


def referenced(text: str) -> set[str]:
    """The trash tables a plan's statements move data back from (or into)."""
    return {(q.replace('""', '"') if q else bare) for q, bare in _REFERENCE.findall(text)}


def made(text: str) -> set[str]:
    """The trash tables the statements create themselves (rows copied aside to be carried
    over, ops/pg/rows.py): nothing kept from before, nothing a purge can have removed."""
    return {name for created in _CREATED.findall(text) for name in referenced(created)}


def missing(conn: psycopg.Connection, names: set[str]) -> set[str]:
    """Of the trash tables `names`, those that no longer exist (purged, or dropped by hand)."""
    if not names:
        return set()
    rows = conn.execute(
        "SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relnamespace = "
        "to_regnamespace(%s) AND c.relname = ANY(%s)",
        (TRASH_SCHEMA, sorted(names)),
    ).fetchall()
    return names - {r[0] for r in rows}


def restorers(history: list, names: set[str]) -> dict[str, list[str]]:
    """For each trash table of `names`, the recorded versions that would bring its data
    back: an applied version whose rollback restores it, or a rolled-back version that a
    rollback kept it for (applying it again restores it). `history` is newest first."""
    out: dict[str, list[str]] = {n: [] for n in names}
    kept_seen: set[str] = set()
    for rec in history:
        if rec.direction == "up" and rec.status == "applied":
            for n in referenced(rec.down_sql) & names:
                out[n].append(f"{rec.version} (its rollback)")
        elif rec.direction == "down" and rec.version not in kept_seen:
            kept_seen.add(rec.version)  # only the newest rollback of a version counts
            for k in rec.plan.get("kept", ()):
                if k.get("trash") in names:
                    out[k["trash"]].append(f"{rec.version} (applying it again)")
    return {n: v for n, v in out.items() if v}
