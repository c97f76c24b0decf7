"""The apply lock: one session-level Postgres advisory lock per database, explained when held.

Owns: taking, releasing and inspecting the lock; reading back the name every connection gives
itself (connect/appname.py), so a holder can be identified; terminating a dead run's backend on
request (`force_unlock`).

Must not: run inside a transaction (every function here wants an autocommit connection, and
leaves it outside any transaction), or touch state beyond its own note table (below).

Why session-level, on the apply connection: the lock lives exactly as long as the connection
that runs the apply transaction. A run killed with SIGKILL loses its socket, the server ends the
backend, and the lock is gone; nothing needs cleaning up by hand. A transaction-level lock would
not survive the autocommit statements (attempt bookkeeping) that run before the apply
transaction.

Why a note table for "since when": pg_locks has no acquisition time (`waitstart` is only set for
waiters), and `application_name` is capped at 63 bytes, which is already tight for
host/pid/user. So right after acquiring, the holder upserts one row into the UNLOGGED table
`reconciler.lock_holder` (created on demand, under the lock) with the full, untruncated identity
and the server's clock_timestamp(). The row is only a note: pg_locks stays the truth, and a row
is believed only while its backend_pid is the one pg_locks shows holding the key, so a row left
by a killed run is ignored and overwritten by the next holder. UNLOGGED because the note is worth
nothing after a crash (the lock is gone too) and should not add WAL. When the note is missing or
unreadable, `since` falls back to the holder's backend_start (connection start, which is at or
before the lock time) and `LockInfo.since_source` says so; `application_name` still gives
host/pid/user, and it is readable in pg_stat_activity by every role.
"""

from __future__ import annotations

import logging
import time

import psycopg
from psycopg import sql

from reconciler import errors
from reconciler.connect.appname import parse_application_name
from reconciler.locks.pg_holder import (  # LOCK_KEY, LockInfo, lock_holder: re-exported
    LOCK_KEY,
    NOTE_TABLE,
    LockInfo,
    _key_parts,
    _note_table,
    _require_autocommit,
    lock_holder,
)
from reconciler.state.base import Actor
from reconciler.state.pg_schema import DDL_LOCK_KEY, SCHEMA, schema_exists

log = logging.getLogger(__name__)

_MAX_POLL = 2.0  # cap of the retry backoff, seconds
_FORCE_WAIT = 5.0  # how long force_unlock waits for a terminated backend to let go


# --- taking it ----------------------------------------------------------------------------------

_NOTE_DDL = [
    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)),
    sql.SQL(
        "CREATE UNLOGGED TABLE IF NOT EXISTS {} ("
        " key bigint PRIMARY KEY,"
        " backend_pid integer NOT NULL,"
        " acquired_at timestamptz NOT NULL,"
        " host text, os_pid integer, os_user text, command text)"
    ).format(_note_table()),
]


class PgLock:
    """The apply lock on one autocommit connection; `with PgLock(conn, timeout=30): ...`.

    acquire() tries pg_try_advisory_lock, retrying with doubling waits (from `poll`, capped at
    2 s) until `timeout` seconds have passed, then raises LockHeld naming the holder.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        *,
        timeout: float = 0.0,
        key: int = LOCK_KEY,
        poll: float = 0.1,
        command: str | None = None,
    ) -> None:
        _require_autocommit(conn)
        self.conn = conn
        self.timeout = max(timeout, 0.0)
        self.key = key
        self.poll = max(poll, 0.01)
        # Recorded in the note; defaults to the command in the connection's application_name.
        self.command = command
        self.held = False

    def _try(self) -> bool:
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        return bool(row and row[0])

    def acquire(self) -> None:
        if self.held:
            raise RuntimeError("this PgLock is already held; release it before acquiring again")
        deadline = time.monotonic() + self.timeout
        delay = self.poll
        said = False
        while True:
            if self._try():
                self.held = True
                self._write_note()
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                holder = lock_holder(self.conn, key=self.key)
                if holder is None and self._try():  # released between our try and the look
                    self.held = True
                    self._write_note()
                    return
                raise _held_error(holder)
            if not said:  # the first attempt found it held: say why we wait, once
                said = True
                self._say_waiting()
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, max(_MAX_POLL, self.poll))

    def _say_waiting(self) -> None:
        holder = lock_holder(self.conn, key=self.key)
        who = f"{holder.command or 'a run'}: {holder.describe()}" if holder else "another run"
        log.warning("Waiting for the lock held by %s (up to %s s)…", who, _secs(self.timeout))

    def _write_note(self) -> None:
        # The note is diagnostics; the advisory lock is the protection. A role that may not
        # create or write the table still gets the lock, and `lock status` falls back to the
        # connection start time.
        actor = Actor.current()
        command = self.command or parse_application_name(
            self.conn.info.parameter_status("application_name")
        ).get("command")
        upsert = sql.SQL(
            "INSERT INTO {} (key, backend_pid, acquired_at, host, os_pid, os_user, command)"
            " VALUES (%s, pg_backend_pid(), clock_timestamp(), %s, %s, %s, %s)"
            " ON CONFLICT (key) DO UPDATE SET backend_pid = EXCLUDED.backend_pid,"
            " acquired_at = EXCLUDED.acquired_at, host = EXCLUDED.host,"
            " os_pid = EXCLUDED.os_pid, os_user = EXCLUDED.os_user, command = EXCLUDED.command"
        ).format(_note_table())
        try:
            with self.conn.transaction():
                exists = self.conn.execute(
                    "SELECT to_regclass(%s) IS NOT NULL", (f'"{SCHEMA}"."{NOTE_TABLE}"',)
                ).fetchone()
                if not (exists and exists[0]):
                    # The same transaction lock as state DDL: a concurrent PgState.ensure()
                    # (say, from `lock force-unlock` recording its event) must not race us.
                    self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
                    for i, statement in enumerate(_NOTE_DDL):
                        if i == 0 and schema_exists(self.conn, SCHEMA):
                            continue  # CREATE SCHEMA IF NOT EXISTS needs CREATE on the database
                        self.conn.execute(statement)
                self.conn.execute(upsert, (self.key, actor.host, actor.pid, actor.user, command))
        except psycopg.errors.Error as exc:
            if self.conn.closed or self.conn.broken:
                raise
            log.warning("could not record when the apply lock was taken: %s", exc)

    def release(self) -> None:
        """Give the lock back; a no-op when not held or when the connection is already gone
        (the server released the lock with it)."""
        if not self.held:
            return
        self.held = False
        if self.conn.closed or self.conn.broken:
            return
        delete = sql.SQL("DELETE FROM {} WHERE key = %s AND backend_pid = pg_backend_pid()")
        try:
            with self.conn.transaction():
                exists = self.conn.execute(
                    "SELECT to_regclass(%s) IS NOT NULL", (f'"{SCHEMA}"."{NOTE_TABLE}"',)
                ).fetchone()
                if exists and exists[0]:
                    self.conn.execute(delete.format(_note_table()), (self.key,))
        except psycopg.errors.Error as exc:  # the note is diagnostics; still release the lock
            if self.conn.closed or self.conn.broken:
                return
            log.warning("could not clear the apply lock note: %s", exc)
        row = self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,)).fetchone()
        if not (row and row[0]):
            log.warning("the apply lock was not held at release (was it force-unlocked?)")

    def __enter__(self) -> PgLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.release()
        except psycopg.Error:
            # Never hide the error that is already propagating (most likely the same lost
            # connection, which released the lock anyway).
            if exc is None:
                raise
            log.warning("could not release the apply lock", exc_info=True)


def _secs(seconds: float) -> str:
    return f"{seconds:g}"


def _held_error(holder: LockInfo | None) -> errors.LockHeld:
    if holder is None:  # released and retaken by someone else between our two queries
        return errors.LockHeld(
            "Another run holds the lock (it changed hands while we looked).",
            detail="Try again, or run `reconciler lock status` to see who holds it.",
        )
    if holder.gone:
        return errors.LockHeld(
            f"Another {holder.command or 'apply'} holds the lock: {holder.describe()}.",
            detail="Or wait: the server ends that session when its statement finishes, and "
            "the lock with it; `reconciler lock status` shows whether it is still held.",
        )
    return errors.LockHeld(
        f"Another {holder.command or 'apply'} holds the lock: {holder.describe()}.",
        detail=(
            "Wait for it to finish (or pass --lock-timeout SECONDS to wait longer); "
            f"if that run is gone, run `reconciler lock force-unlock {holder.backend_pid}`."
        ),
    )


# --- breaking it --------------------------------------------------------------------------------

_TERMINATE_SQL = """
SELECT pg_terminate_backend(l.pid)
FROM pg_catalog.pg_locks AS l
WHERE l.locktype = 'advisory'
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND l.classid = %(classid)s::bigint::oid
  AND l.objid = %(objid)s::bigint::oid
  AND l.objsubid = 1
  AND l.granted
  AND l.pid = %(pid)s
  AND l.pid <> pg_backend_pid()
LIMIT 1
"""


def force_unlock(
    conn: psycopg.Connection, backend_pid: int, *, key: int = LOCK_KEY, wait: float = _FORCE_WAIT
) -> bool:
    """Terminate `backend_pid` if, and only if, it holds the lock now; False when it does not.

    The check and the termination are one statement, so a pid that let go (or was reused by an
    unrelated session) in between is not killed. Terminating the backend rolls back its open
    apply transaction, and the server frees the lock as the backend exits; this waits up to
    `wait` seconds for that. Our own backend is never terminated (use PgLock.release()).
    """
    _require_autocommit(conn)
    classid, objid = _key_parts(key)
    params = {"classid": classid, "objid": objid, "pid": backend_pid}
    try:
        row = conn.execute(_TERMINATE_SQL, params).fetchone()
    except psycopg.errors.InsufficientPrivilege as exc:
        raise errors.Refused(
            f"Not allowed to terminate backend {backend_pid}: {exc.diag.message_primary}.",
            detail="Connect as the role that holds the lock, a superuser, or a member of "
            "pg_signal_backend.",
        ) from exc
    if row is None:
        return False
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        holder = lock_holder(conn, key=key)
        if holder is None or holder.backend_pid != backend_pid:
            break
        time.sleep(0.05)
    return bool(row[0])
