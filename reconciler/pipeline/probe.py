"""Probes: desired objects built in a scratch schema, inside a transaction that is always rolled
back, so the server can say how it spells them.

Owns: the probe's CREATE TABLE (`probe_table_sql`), a child table with its inherited columns
(`with_inherited`), scratch schemas (`scratch`) and running one probe statement behind its own
savepoint (`attempt`). canonical.py, canonical_rules.py and canonical_aggregates.py build on it.

Must not: commit, or touch an existing object: everything lives in `reconciler_probe_<n>`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from reconciler.connect import APPLY_SEARCH_PATH
from reconciler.errors import ConnectionFailed, ReconcilerError, Refused
from reconciler.model.pg import Column, Table
from reconciler.model.snapshot import PgSnapshot
from reconciler.sql.render import column_def as _column_def
from reconciler.sql.render import ident
from reconciler.state.privileges import privilege_reason

if TYPE_CHECKING:
    import psycopg


def probe_column(c: Column) -> str:
    # Identity and NOT NULL have no text to canonicalize; leaving them out keeps probes cheap.
    return _column_def(dataclasses.replace(c, identity=None, nullable=True))


def probe_table_sql(schema: str, t: Table, parent_schema: str | None = None) -> str:
    """The probe's CREATE TABLE; a partition's names its parent's probe, in parent_schema."""
    lines = [probe_column(c) for c in t.columns]
    lines += [f"CONSTRAINT {ident(k.name)} CHECK ({k.expression})" for k in t.checks]
    lines += [f"CONSTRAINT {ident(x.name)} {x.definition}" for x in t.exclusions]
    key = f" PARTITION BY {t.partition_by}" if t.partition_by else ""
    if t.partition_of is not None and parent_schema is not None:
        parent = ident(parent_schema, t.partition_of[1])
        own = f" ({', '.join(lines)})" if lines else ""
        return f"CREATE TABLE {ident(schema, t.name)} PARTITION OF {parent}{own} {t.bound}{key}"
    return f"CREATE TABLE {ident(schema, t.name)} ({', '.join(lines)}){key}"


def with_inherited(desired: PgSnapshot, t: Table) -> Table:
    """For the probe: a child with the columns its parents give it as plain columns of its
    own, so that its checks and indexes naming them can be spelled."""
    own = {c.name for c in t.columns}
    extra: list[Column] = []
    todo, seen = list(t.inherits), {(t.schema, t.name)}
    while todo:
        key = todo.pop(0)
        parent = desired.tables.get(key)
        if key in seen or parent is None:
            continue
        seen.add(key)
        for c in parent.columns:
            if c.name not in own:
                own.add(c.name)
                extra.append(dataclasses.replace(c, default=None, generated=None))
        todo += parent.inherits
    return dataclasses.replace(t, columns=(*t.columns, *extra)) if extra else t


@contextmanager
def probing(conn: psycopg.Connection) -> Iterator[None]:
    """A transaction that is always rolled back, under what every probe runs with: the apply's
    search_path (a bare name in desired text means what the apply will make it mean, whatever
    the session's own), and bounds on its waits. It is read-write whatever
    default_transaction_read_only says (nothing it writes outlives it), so that setting does
    not change a plan; a standby, where nothing can be tried, is refused in one sentence."""
    import psycopg  # deferred: start-up: psycopg

    with conn.transaction(force_rollback=True):
        try:
            conn.execute("SET TRANSACTION READ WRITE")
        except psycopg.Error as exc:
            raise cannot_probe(conn, exc, step="mode") from None
        conn.execute(
            "SELECT pg_catalog.set_config('lock_timeout', '2s', true),"
            " pg_catalog.set_config('statement_timeout', '30s', true),"
            " pg_catalog.set_config('search_path', %s, true)",
            (APPLY_SEARCH_PATH,),
        )
        yield


def scratch_schema(mapping: dict[str, str], conn: psycopg.Connection, schema: str) -> str:
    import psycopg  # deferred: start-up: psycopg

    if schema not in mapping:
        name = f"reconciler_probe_{len(mapping)}"
        try:
            conn.execute(f"CREATE SCHEMA {ident(name)}")
        except psycopg.Error as exc:
            raise cannot_probe(conn, exc, step="schema") from None
        mapping[schema] = name
    return mapping[schema]


def cannot_probe(
    conn: psycopg.Connection, exc: psycopg.Error, *, step: str = "probe"
) -> ReconcilerError:
    """What a plan says when the server does not let it try the desired objects at all
    (`step` "mode": a read-write transaction, "schema": the scratch schema), or one of them
    for want of a privilege rather than for anything in the files: planning on without the
    probes would show every text written otherwise than the server spells it as a change."""
    if conn.broken:
        return ConnectionFailed(
            "Lost the connection to PostgreSQL while trying the desired objects.",
            detail=" ".join(str(exc).split()),
        )
    user, database = conn.info.user, conn.info.dbname
    server = " ".join(str(exc).split())
    why = (
        "the plan tries the desired objects in a scratch schema, in a transaction that is "
        "always rolled back, to compare them as the server spells them"
    )
    if step == "mode":  # a primary grants a read-write transaction whatever the defaults say
        return Refused(
            f"Cannot plan against a server in recovery (a standby): {why}, which a standby "
            "refuses.",
            detail=f"Plan against the primary. ({server})",
        )
    if exc.sqlstate == "42501" and step == "schema":  # CREATE SCHEMA needs CREATE
        return Refused(
            f"Cannot plan: role {user} may not create a schema in database {database}; {why}.",
            detail=(
                f"GRANT CREATE ON DATABASE {ident(database)} TO {ident(user)}, or plan as a role "
                "that may. Without it, every text written otherwise than the server spells it "
                "would show as a change."
            ),
        )
    if exc.sqlstate == "42501":  # a probe's type, function, language …
        return Refused(
            f"Cannot plan: role {user} lacks a privilege the desired objects need ({server}); "
            f"{why}.",
            detail=(
                f"{privilege_reason(exc, conn) or 'Grant it to the role'}; or plan as a role "
                "that has it (the one that applies). Without it, the objects it keeps from "
                "being tried would show every text written otherwise than the server spells "
                "it as a change."
            ),
        )
    return Refused(
        f"Cannot plan: the server refused to try the desired objects; {why}.", detail=server
    )


def attempt(conn: psycopg.Connection, statement: str) -> bool:
    """Whether the server takes `statement`; False is that object's change (a type that does
    not exist yet, say). A privilege the role lacks is not: the plan stops (cannot_probe)."""
    import psycopg  # deferred: start-up: psycopg

    try:
        with conn.transaction():  # a savepoint: one failed probe leaves the others usable
            conn.execute(statement)
        return True
    except psycopg.errors.InsufficientPrivilege as exc:
        raise cannot_probe(conn, exc) from None
    except psycopg.Error:
        return False
