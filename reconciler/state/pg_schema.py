"""The state schema's DDL: schema `reconciler` of the target database and its versioned,
idempotent migrations.

Owns: the schema name (SCHEMA), the DDL of every state format (_MIGRATIONS, FORMAT_VERSION), the
key of the lock that serializes them (DDL_LOCK_KEY) and the races IF NOT EXISTS leaves open.
Must not: run anything (postgres.py's PgState.ensure() does).
"""

from __future__ import annotations

from typing import Any

import psycopg

from reconciler.model.names import TOOL_SCHEMA

SCHEMA = TOOL_SCHEMA
# Serializes concurrent ensure() calls (a transaction-level lock, distinct from the apply lock
# so that reading state never waits for a running apply): the first 8 bytes of
# sha256(b"reconciler.state") as a signed big-endian integer.
DDL_LOCK_KEY = -6323077101464373433

_ACTOR_COLUMNS = """
    os_user text, host text, os_pid integer,
    db_user text NOT NULL DEFAULT current_user"""

# _MIGRATIONS[n - 1] brings the state from format n - 1 to format n, in one transaction with
# the meta row. Every statement is idempotent (IF NOT EXISTS), so objects that already exist
# (the schema, created by the lock's note) are no obstacle. Entries are never edited once
# released; a change of shape is a new entry.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE SCHEMA IF NOT EXISTS {schema}",
        "CREATE TABLE IF NOT EXISTS {schema}.meta (name text PRIMARY KEY, value text NOT NULL)",
        """CREATE TABLE IF NOT EXISTS {schema}.applies (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            version text NOT NULL CHECK (version ~ '^[0-9]{{14}}$'),
            slug text NOT NULL DEFAULT '',
            direction text NOT NULL CHECK (direction IN ('up', 'down')),
            status text NOT NULL CHECK (status IN ('applied', 'rolled_back')),
            started_at timestamptz NOT NULL,
            finished_at timestamptz NOT NULL,
            duration_ms bigint NOT NULL,"""
        + _ACTOR_COLUMNS
        + """,
            up_sha256 text, down_sha256 text,
            up_sql text NOT NULL DEFAULT '', down_sql text NOT NULL DEFAULT '',
            plan jsonb NOT NULL DEFAULT '{{}}',
            desired_hash text, fingerprint_before text, fingerprint_after text,
            change_count integer NOT NULL DEFAULT 0,
            log_path text)""",
        # At most one live 'up' row per version: applying it twice needs a rollback between.
        """CREATE UNIQUE INDEX IF NOT EXISTS applies_version_applied
            ON {schema}.applies (version) WHERE direction = 'up' AND status = 'applied'""",
        """CREATE TABLE IF NOT EXISTS {schema}.attempts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            version text NOT NULL,
            direction text NOT NULL CHECK (direction IN ('up', 'down')),
            started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            finished_at timestamptz,
            status text NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'succeeded', 'failed')),
            error text,"""
        + _ACTOR_COLUMNS
        + """,
            backend_pid integer NOT NULL DEFAULT pg_backend_pid(),
            backend_start timestamptz)""",
        """CREATE TABLE IF NOT EXISTS {schema}.inventory (
            address text PRIMARY KEY,
            kind text NOT NULL,
            definition jsonb NOT NULL,
            version text NOT NULL,
            updated_at timestamptz NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS {schema}.events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            kind text NOT NULL,
            version text,
            detail jsonb NOT NULL DEFAULT '{{}}',"""
        + _ACTOR_COLUMNS
        + ")",
    ),
)
FORMAT_VERSION = len(_MIGRATIONS)  # the newest state format this code knows

# Races on catalog rows that IF NOT EXISTS does not prevent (two sessions both see "absent").
_DDL_RACES = (
    psycopg.errors.UniqueViolation,
    psycopg.errors.DuplicateObject,
    psycopg.errors.DuplicateTable,
    psycopg.errors.DuplicateSchema,
)


def schema_exists(conn: Any, name: str) -> bool:
    """Whether schema `name` exists. `CREATE SCHEMA IF NOT EXISTS` checks CREATE on the
    database before it looks: a role given a schema made for it by the owner (the state's, the
    trash's) would be refused creating what is already there."""
    row = conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])
