"""Who holds the apply lock (pg.py): the advisory lock's holder from pg_locks, named from its
application_name and the note table, and whether its OS process still runs on this host.

Owns: the lock key, the note table's name, `LockInfo` and `lock_holder`.

Must not: take, release or break the lock (pg.py does), or write anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import psycopg
from psycopg import sql

from reconciler.connect.appname import parse_application_name
from reconciler.locks.holder_alive import holder_gone
from reconciler.state.pg_schema import SCHEMA

# The key: the first 8 bytes of sha256(b"reconciler") read as a big-endian signed 64-bit
# integer, i.e. int.from_bytes(hashlib.sha256(b"reconciler").digest()[:8], "big", signed=True).
# Written out so that it can be searched for in pg_locks (there as classid 1110457389,
# objid 3938672102, objsubid 1); tests/locks/test_lock.py checks the derivation.
LOCK_KEY: int = 4769378173295222246

NOTE_TABLE = "lock_holder"


# --- who holds it -------------------------------------------------------------------------------

SinceSource = Literal["lock", "backend_start", "unknown"]


@dataclass(frozen=True, slots=True)
class LockInfo:
    """Who holds the lock. host/pid/user/command are the holder's OS process (None when the
    holder is not a Reconciler run, or its name was cut); backend_pid is its server process."""

    backend_pid: int
    host: str | None
    pid: int | None
    user: str | None
    command: str | None
    db_user: str
    client_addr: str | None
    # When the lock was taken (since_source == "lock", from the note table), else when the
    # holder connected ("backend_start", an earlier bound), else None ("unknown": the note is
    # missing and pg_stat_activity hides backend_start from this role).
    since: datetime | None
    application_name: str
    since_source: SinceSource = "lock"

    def describe(self) -> str:
        """`host H pid P user U (backend pid N) since 2026-11-25 12:00:00 UTC`."""
        parts = []
        if self.host is not None:
            parts.append(f"host {self.host}")
        if self.pid is not None:
            parts.append(f"pid {self.pid}")
        if self.user is not None:
            parts.append(f"user {self.user}")
        if not parts:  # not a Reconciler connection, or an unnamed one
            parts.append(f"db user {self.db_user or '?'}")
            if self.application_name:
                parts.append(f"application {self.application_name!r}")
        text = " ".join(parts) + f" (backend pid {self.backend_pid})"
        if self.since is not None:
            stamp = self.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            if self.since_source == "lock":
                text += f" since {stamp}"
            else:
                text += f" connected since {stamp}"
        if self.gone:
            # The session outlives its client while the backend is busy: PostgreSQL notices a
            # closed socket only when it next reads from or writes to it.
            text += (
                f"; pid {self.pid} on this host is no longer running, but its server session"
                " is still open (most likely finishing a statement its client no longer waits"
                f" for): free it with `reconciler lock force-unlock {self.backend_pid}`"
            )
        return text

    @property
    def gone(self) -> bool:
        """True when the holder names a pid on this host that no longer exists."""
        return bool(holder_gone(self.host, self.pid))


def _require_autocommit(conn: psycopg.Connection) -> None:
    # A lock call inside a transaction would either leave that transaction open or make the
    # note row commit with someone else's work; session locks also ignore rollbacks, which is
    # surprising there. So lock calls only accept autocommit connections.
    if not conn.autocommit:
        raise ValueError("the apply lock needs an autocommit connection (autocommit=True)")


def _key_parts(key: int) -> tuple[int, int]:
    """pg_locks shows a bigint advisory key as classid = high 32 bits, objid = low 32 bits."""
    return (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF


_HOLDER_SQL = """
SELECT l.pid, a.application_name, a.usename, host(a.client_addr), a.backend_start
FROM pg_catalog.pg_locks AS l
LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory'
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND l.classid = %(classid)s::bigint::oid
  AND l.objid = %(objid)s::bigint::oid
  AND l.objsubid = 1
  AND l.granted
ORDER BY l.pid
LIMIT 1
"""

# Privileges are checked in SQL so that a role without access reads "no note" instead of an
# error; by OID, because the name forms raise for a schema that does not exist.
_NOTE_READABLE_SQL = """
SELECT has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(table)s
"""


def _note_table() -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(NOTE_TABLE))


def _read_note(conn: psycopg.Connection, key: int, backend_pid: int) -> tuple | None:
    row = conn.execute(_NOTE_READABLE_SQL, {"schema": SCHEMA, "table": NOTE_TABLE}).fetchone()
    if not row or not row[0]:
        return None
    query = sql.SQL(
        "SELECT acquired_at, host, os_pid, os_user, command FROM {} "
        "WHERE key = %s AND backend_pid = %s"
    ).format(_note_table())
    return conn.execute(query, (key, backend_pid)).fetchone()


def lock_holder(conn: psycopg.Connection, *, key: int = LOCK_KEY) -> LockInfo | None:
    """Who holds the lock in this connection's database, or None when it is free."""
    _require_autocommit(conn)
    classid, objid = _key_parts(key)
    row = conn.execute(_HOLDER_SQL, {"classid": classid, "objid": objid}).fetchone()
    if row is None:
        return None
    backend_pid, app_name, db_user, client_addr, backend_start = row
    parsed = parse_application_name(app_name)
    note = _read_note(conn, key, backend_pid)
    if note is not None:
        since, host, os_pid, os_user, command = note
        source: SinceSource = "lock"
    else:
        since, host, os_user, command = (
            backend_start,
            parsed["host"],
            parsed["user"],
            parsed["command"],
        )
        os_pid = int(parsed["pid"]) if parsed["pid"] else None
        source = "backend_start" if backend_start is not None else "unknown"
    return LockInfo(
        backend_pid=backend_pid,
        host=host,
        pid=os_pid,
        user=os_user,
        command=command,
        db_user=db_user or "",
        client_addr=client_addr,
        since=since,
        application_name=app_name or "",
        since_source=source,
    )
