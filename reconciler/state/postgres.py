"""PgState: recorded state in schema `reconciler` of the target database.

Owns: the state tables (meta, applies, attempts, inventory, events), their versioned idempotent
DDL, and reading and writing them through the caller's connection.

Must not: commit or roll back a transaction the caller opened. Writes that belong to an apply run
in the caller's open transaction (inside a savepoint, for atomicity of our own statements), so
the state row commits with the DDL it describes; only the attempt bookkeeping commits on its
own, because it must outlive a failed or killed apply. Identifiers go through psycopg.sql and
values are bind parameters, always.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from reconciler import errors
from reconciler.model.address import kind_of
from reconciler.state.base import (
    Actor,
    ApplyRecord,
    Attempt,
    Direction,
    Event,
    Inventory,
    InventoryEntry,
    StateBackend,
    inventory_value,
)
from reconciler.state.jsonb import jsonb
from reconciler.state.pg_schema import (
    _DDL_RACES,
    _MIGRATIONS,
    DDL_LOCK_KEY,
    FORMAT_VERSION,
    SCHEMA,
    schema_exists,
)
from reconciler.state.privileges import privilege_reason

_OPEN = (TransactionStatus.ACTIVE, TransactionStatus.INTRANS, TransactionStatus.INERROR)

_APPLY_COLUMNS = tuple(f.name for f in fields(ApplyRecord))


def _q(template: str, **identifiers: str) -> sql.Composed:
    """A statement with the schema (and any table) names quoted as identifiers."""
    names = {k: sql.Identifier(v) for k, v in identifiers.items()}
    return sql.SQL(template).format(schema=sql.Identifier(SCHEMA), **names)


class PgState(StateBackend):
    """State in schema `reconciler`, through the caller's connection (autocommit or not)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    # --- transactions -------------------------------------------------------------------------

    def _in_transaction(self) -> bool:
        # UNKNOWN (a lost connection) is not "in a transaction": the next statement then raises
        # psycopg's OperationalError, which callers already handle, rather than our own error.
        return self.conn.info.transaction_status in _OPEN

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        # Outside autocommit a read would open a transaction and leave it "idle in transaction";
        # wrap it so the connection is handed back as it was given.
        if self.conn.autocommit or self._in_transaction():
            yield
        else:
            with self.conn.transaction():
                yield

    def _own_transaction(self, what: str) -> psycopg.Transaction:
        if self._in_transaction():
            raise RuntimeError(
                f"{what} must run outside any transaction, so that its row survives a failed or "
                "killed apply"
            )
        return self.conn.transaction()

    # --- format -------------------------------------------------------------------------------

    def _stored_version(self, *, refuse_newer: bool = True) -> int:
        """0 when there is no state yet; refuses a format newer than this code knows."""
        try:
            row = self.conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (f'"{SCHEMA}".meta',)
            ).fetchone()
            if not (row and row[0]):
                return 0
            row = self.conn.execute(
                _q("SELECT value FROM {schema}.meta WHERE name = 'format_version'")
            ).fetchone()
        except psycopg.errors.InsufficientPrivilege as exc:
            if privilege_reason(exc, self.conn) is None:
                raise  # a table of it: callers that can do without the state catch that
            raise self._denied(exc) from None
        version = int(row[0]) if row else 0
        if version > FORMAT_VERSION and refuse_newer:
            raise errors.Refused(
                f'The state in schema "{SCHEMA}" has format version {version}, newer than the '
                f"version {FORMAT_VERSION} this Reconciler knows.",
                detail="A newer Reconciler wrote it. Upgrade Reconciler to read or change this "
                "database's state; do not edit reconciler.meta by hand.",
            )
        return version

    def exists(self) -> bool:
        with self._reading():
            return self._stored_version(refuse_newer=False) > 0

    def ensure(self) -> None:
        try:
            self._ensure()
        except psycopg.errors.InsufficientPrivilege as exc:
            raise self._denied(exc) from None

    def _denied(self, exc: psycopg.Error) -> errors.StateDenied:
        reason = privilege_reason(exc, self.conn) or str(exc).strip().rstrip(".")
        return errors.StateDenied(f"Cannot read or set up the recorded state: {reason}.")

    def _ensure(self) -> None:
        with self._reading():
            if self._stored_version() == FORMAT_VERSION:
                return  # the common case: no lock, no DDL
        for attempt in range(3):
            try:
                with self.conn.transaction():
                    self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
                    self._migrate()
                return
            except _DDL_RACES:
                # Someone outside our lock (a human, an older tool) created the same object
                # between our check and our CREATE; the savepoint rolled back, so try again.
                if attempt == 2:
                    raise

    def _migrate(self) -> None:
        current = self._stored_version()  # again, now that we hold the DDL lock
        for target in range(current + 1, FORMAT_VERSION + 1):
            for statement in _MIGRATIONS[target - 1]:
                if statement.startswith("CREATE SCHEMA") and schema_exists(self.conn, SCHEMA):
                    continue  # IF NOT EXISTS still needs CREATE on the database: not asked
                self.conn.execute(_q(statement))
            self.conn.execute(
                _q(
                    "INSERT INTO {schema}.meta (name, value) VALUES ('format_version', %s)"
                    " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
                ),
                (str(target),),
            )

    # --- attempts -----------------------------------------------------------------------------

    def begin_attempt(self, version: str, *, direction: Direction = "up") -> int:
        self.ensure()
        actor = Actor.current()
        with self._own_transaction("begin_attempt"):
            row = self.conn.execute(
                _q(
                    "INSERT INTO {schema}.attempts"
                    " (version, direction, os_user, host, os_pid, backend_start)"
                    " VALUES (%s, %s, %s, %s, %s, (SELECT backend_start"
                    " FROM pg_catalog.pg_stat_activity WHERE pid = pg_backend_pid()))"
                    " RETURNING id"
                ),
                (version, direction, actor.user, actor.host, actor.pid),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def finish_attempt(
        self,
        attempt_id: int,
        status: Literal["succeeded", "failed"],
        error: str | None = None,
    ) -> None:
        if status not in ("succeeded", "failed"):
            raise ValueError(f"an attempt finishes 'succeeded' or 'failed', not {status!r}")
        # 'succeeded' commits with the apply transaction; 'failed' is written after that
        # transaction rolled back, and must not be rolled back with anything.
        scope = (
            self.conn.transaction()
            if status == "succeeded"
            else self._own_transaction("finish_attempt(failed)")
        )
        with scope:
            self.conn.execute(
                _q(
                    "UPDATE {schema}.attempts SET status = %s, error = %s,"
                    " finished_at = clock_timestamp() WHERE id = %s"
                ),
                (status, error, attempt_id),
            )

    def attempts(self, limit: int | None = None) -> list[Attempt]:
        # 'running' with no live backend of that pid and start time: the process died, and its
        # apply transaction with it; report that rather than a run that never ends.
        query = _q(
            """SELECT t.id, t.version, t.direction,
                CASE WHEN t.status = 'running' AND NOT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_stat_activity AS a
                    WHERE a.pid = t.backend_pid
                      AND (a.backend_start IS NULL OR t.backend_start IS NULL
                           OR a.backend_start = t.backend_start))
                THEN 'interrupted' ELSE t.status END AS status,
                t.started_at, t.finished_at, t.error, t.os_user, t.host, t.os_pid, t.db_user,
                t.backend_pid
            FROM {schema}.attempts AS t ORDER BY t.id DESC LIMIT %s"""
        )
        with self._reading():
            if not self._stored_version():
                return []
            rows = self.conn.cursor(row_factory=dict_row).execute(query, (limit,)).fetchall()
        return [Attempt(**row) for row in rows]

    # --- applies ------------------------------------------------------------------------------

    def _insert_apply(self, rec: ApplyRecord) -> None:
        values = {name: getattr(rec, name) for name in _APPLY_COLUMNS if name != "id"}
        values["plan"] = jsonb(dict(rec.plan))
        columns = list(values)
        placeholders = [
            sql.SQL("coalesce(%(db_user)s, current_user)")
            if name == "db_user"
            else sql.Placeholder(name)
            for name in columns
        ]
        query = sql.SQL("INSERT INTO {}.applies ({}) VALUES ({})").format(
            sql.Identifier(SCHEMA),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(placeholders),
        )
        self.conn.execute(query, values)

    def _store(self, rec: ApplyRecord, version: str, inventory: Inventory) -> None:
        """The apply's row, then the inventory, in one pipeline: the server stores the row
        while the inventory is worked out (when it is given as a function) and encoded."""
        with self.conn.pipeline():
            self._insert_apply(rec)
            self._replace_inventory(version, inventory_value(inventory))

    def _replace_inventory(self, version: str, inventory: Mapping[str, Mapping[str, Any]]) -> None:
        # One statement: drop what is gone, upsert the rest. A row whose definition did not
        # change keeps the version and time of the apply that last changed it.
        # [address, kind, definition] rows: a jsonb array parses faster than an object of
        # 15,000 keys, which jsonb sorts (the addresses are a mapping's keys: no repeats).
        items = [
            [
                address,
                kind_of(address),
                definition if type(definition) is dict else dict(definition),
            ]
            for address, definition in inventory.items()
        ]
        query = _q(
            """WITH incoming AS (
                SELECT e->>0 AS address, e->>1 AS kind, e->2 AS definition
                FROM jsonb_array_elements(%(items)s::jsonb) AS e
            ), removed AS (
                DELETE FROM {schema}.inventory AS i
                WHERE NOT EXISTS (SELECT 1 FROM incoming AS n WHERE n.address = i.address)
            )
            INSERT INTO {schema}.inventory AS i (address, kind, definition, version, updated_at)
            SELECT address, kind, definition, %(version)s, clock_timestamp() FROM incoming
            ON CONFLICT (address) DO UPDATE
                SET kind = EXCLUDED.kind, definition = EXCLUDED.definition,
                    version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
                WHERE i.definition IS DISTINCT FROM EXCLUDED.definition
                   OR i.kind IS DISTINCT FROM EXCLUDED.kind"""
        )
        self.conn.execute(query, {"items": jsonb(items), "version": version})

    def record_apply(self, rec: ApplyRecord, inventory: Inventory) -> None:
        if rec.direction != "up" or rec.status != "applied":
            raise ValueError("record_apply takes an 'up' record with status 'applied'")
        self.ensure()
        with self.conn.transaction():
            # The record of an apply's batches committed so far gives way to the grown one.
            self.conn.execute(
                _q(
                    "DELETE FROM {schema}.applies WHERE version = %s AND direction = 'up'"
                    " AND status = 'applied' AND plan ? 'partial'"
                ),
                (rec.version,),
            )
            live = self._get(rec.version, applied_only=True)
            if live is not None:
                stamp = live.finished_at.strftime("%Y-%m-%d %H:%M:%S %Z")
                raise errors.Refused(
                    f"Version {rec.version} is already applied (recorded {stamp} by "
                    f"{live.os_user}@{live.host}).",
                    detail="Roll it back first to apply it again.",
                )
            self._store(rec, rec.version, inventory)

    def mark_rolled_back(self, version: str, down_rec: ApplyRecord, inventory: Inventory) -> None:
        if down_rec.direction != "down" or down_rec.version != version:
            raise ValueError(f"mark_rolled_back takes a 'down' record of version {version}")
        self.ensure()
        with self.conn.transaction():
            flipped = self.conn.execute(
                _q(
                    "UPDATE {schema}.applies SET status = 'rolled_back'"
                    " WHERE version = %s AND direction = 'up' AND status = 'applied'"
                    " RETURNING id"
                ),
                (version,),
            ).fetchone()
            if flipped is None:
                raise errors.Refused(
                    f"Version {version} is not applied, so it cannot be rolled back.",
                    detail="`reconciler state history` lists what is applied.",
                )
            self._store(down_rec, version, inventory)

    def _select_applies(self, where: str, params: tuple, limit: int | None) -> list[ApplyRecord]:
        query = sql.SQL("SELECT {} FROM {}.applies WHERE {} ORDER BY id DESC LIMIT %s").format(
            sql.SQL(", ").join(map(sql.Identifier, _APPLY_COLUMNS)),
            sql.Identifier(SCHEMA),
            sql.SQL(where),  # fixed text from this module, never user input
        )
        if not self._stored_version():
            return []
        cur = self.conn.cursor(row_factory=dict_row)
        return [ApplyRecord(**row) for row in cur.execute(query, (*params, limit)).fetchall()]

    def _get(self, version: str, *, applied_only: bool) -> ApplyRecord | None:
        where = "version = %s AND direction = 'up'"
        if applied_only:
            where += " AND status = 'applied'"
        found = self._select_applies(where, (version,), 1)
        return found[0] if found else None

    def get(self, version: str) -> ApplyRecord | None:
        with self._reading():
            return self._get(version, applied_only=False)

    def last_applied(self) -> ApplyRecord | None:
        with self._reading():
            found = self._select_applies("direction = 'up' AND status = 'applied'", (), 1)
        return found[0] if found else None

    def history(self, limit: int | None = None) -> list[ApplyRecord]:
        with self._reading():
            return self._select_applies("true", (), limit)

    # --- inventory ----------------------------------------------------------------------------

    def inventory_entries(self) -> list[InventoryEntry]:
        query = _q(
            "SELECT address, kind, definition, version, updated_at"
            " FROM {schema}.inventory ORDER BY address"
        )
        with self._reading():
            if not self._stored_version():
                return []
            rows = self.conn.cursor(row_factory=dict_row).execute(query).fetchall()
        return [InventoryEntry(**row) for row in rows]

    def inventory(self) -> dict[str, dict[str, Any]]:
        return {e.address: dict(e.definition) for e in self.inventory_entries()}

    # --- events -------------------------------------------------------------------------------

    def record_event(
        self, kind: str, version: str | None, detail: Mapping[str, Any] | None = None
    ) -> None:
        self.ensure()
        actor = Actor.current()
        with self.conn.transaction():
            self.conn.execute(
                _q(
                    "INSERT INTO {schema}.events (kind, version, detail, os_user, host, os_pid)"
                    " VALUES (%s, %s, %s, %s, %s, %s)"
                ),
                (kind, version, jsonb(dict(detail or {})), actor.user, actor.host, actor.pid),
            )

    def events(self, limit: int | None = None) -> list[Event]:
        query = _q(
            "SELECT id, at, kind, version, detail, os_user, host, os_pid, db_user"
            " FROM {schema}.events ORDER BY id DESC LIMIT %s"
        )
        with self._reading():
            if not self._stored_version():
                return []
            rows = self.conn.cursor(row_factory=dict_row).execute(query, (limit,)).fetchall()
        return [Event(**row) for row in rows]
