"""Reversible drops: a dropped table or column is kept in the `reconciler_trash` schema.

A quarantined table is renamed and moved there whole (rows, keys, checks, owned sequences);
a quarantined column is copied there with the table's primary key, then dropped. Each trash
table's comment is a JSON record of what it holds and when it was dropped, which `reconciler
trash list|purge` read. The rollback moves the table back, or re-adds the column and fills it
from the copy by key; should the copy have been purged in between, the rollback rebuilds the
table or column empty, as a plain drop's rollback would.

Every statement is re-runnable, like the rest of a plan's files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.pg import Column, Table
from reconciler.ops.base import DESTRUCTIVE, Hazard, Statement
from reconciler.ops.pg.column import AddColumn, DropColumn
from reconciler.ops.pg.table import CreateTable
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import dollar_quote, ident, idents, literal

TRASH_SCHEMA = "reconciler_trash"


def trash_name(token: str, schema: str, table: str, column: str = "") -> str:
    """A trash table's name: readable, unique per plan (token) and object, ≤ 63 bytes."""
    digest = hashlib.sha256(f"{token}|{schema}|{table}|{column}".encode()).hexdigest()[:10]
    readable = f"{table}_{column}" if column else table
    while len(readable.encode()) > 48:
        readable = readable[:-1]
    return f"{readable}_{digest}"


def create_trash_schema() -> Statement:
    """The trash schema when missing. Not CREATE SCHEMA IF NOT EXISTS: that asks for CREATE
    on the database even when the schema is there (made by the owner for a role without it)."""
    body = (
        f"BEGIN\nIF to_regnamespace({literal(TRASH_SCHEMA)}) IS NULL THEN\n"
        f"CREATE SCHEMA {ident(TRASH_SCHEMA)};\nEND IF;\nEND"
    )
    return Statement(f"DO {dollar_quote(body)}")


def drop_trash_schema_if_empty() -> Statement:
    schema = literal(TRASH_SCHEMA)
    body = (
        "BEGIN\nIF to_regnamespace("
        + schema
        + ") IS NOT NULL AND NOT EXISTS (SELECT FROM pg_catalog.pg_class "
        f"WHERE relnamespace = to_regnamespace({schema})) THEN\n"
        f"DROP SCHEMA {ident(TRASH_SCHEMA)};\nEND IF;\nEND"
    )
    return Statement(f"DO {dollar_quote(body)}")


def _record(trash: str, fields: dict[str, str], renamed: str = "") -> str:
    """COMMENT ON the trash table: a JSON record with the time of the drop (and, given the
    name of a jsonb variable of the DO block, what was renamed with it)."""
    pairs = ", ".join(f"{literal(k)}, {literal(v)}" for k, v in fields.items())
    record = f"json_build_object({pairs}, 'dropped_at', now())"
    if renamed:
        record = f"({record}::jsonb || jsonb_build_object('renamed', {renamed}))"
    return (
        f"EXECUTE format('COMMENT ON TABLE %s IS %L', {literal(ident(TRASH_SCHEMA, trash))}, "
        f"{record}::text);"
    )


# The indexes (constraints' included) and owned sequences of a table move with it into the
# trash schema, where their names must be unique: a table dropped a second time under the same
# name would otherwise collide with its first copy ("relation … already exists"). They are
# renamed after the trash table first, recorded in its comment, and named back on restore.
_OWN_RELATIONS = """SELECT c.oid::regclass::text AS rel, c.relname, c.relkind
  FROM pg_catalog.pg_index AS i JOIN pg_catalog.pg_class AS c ON c.oid = i.indexrelid
  WHERE i.indrelid = {table}
  UNION ALL
  SELECT c.oid::regclass::text, c.relname, c.relkind
  FROM pg_catalog.pg_depend AS d JOIN pg_catalog.pg_class AS c ON c.oid = d.objid
  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refobjid = {table}
    AND d.deptype IN ('a', 'i') AND c.relkind = 'S'
  ORDER BY 2"""


def _rename_own(table: str, trash: str) -> str:
    """plpgsql: rename the relations of `table` (a regclass expression) after `trash`,
    collecting new name → old name in the variable `renamed`."""
    prefix = literal(trash[:50] + "_")
    return (
        f"FOR r IN {_OWN_RELATIONS.format(table=table)} LOOP\n"
        "n := n + 1;\n"
        f"EXECUTE format('ALTER %s %s RENAME TO %I', CASE r.relkind WHEN 'S' THEN 'SEQUENCE' "
        f"ELSE 'INDEX' END, r.rel, {prefix} || n);\n"
        f"renamed := renamed || jsonb_build_object({prefix} || n, "
        "jsonb_build_array(r.relname, r.relkind));\n"
        "END LOOP;\n"
    )


def _rename_back(schema: str, comment: str) -> str:
    """plpgsql: name back, in `schema`, what `comment` (the trash record) says was renamed."""
    return (
        f"FOR r IN SELECT key, value->>0 AS old, value->>1 AS kind "
        f"FROM jsonb_each(coalesce(({comment})::jsonb->'renamed', '{{}}')) LOOP\n"
        "EXECUTE format('ALTER %s %I.%I RENAME TO %I', CASE r.kind WHEN 'S' THEN 'SEQUENCE' "
        f"ELSE 'INDEX' END, {literal(schema)}, r.key, r.old);\n"
        "END LOOP;\n"
    )


@dataclass(frozen=True, slots=True)
class QuarantineTable(DropWhole):
    """DROP TABLE that keeps the table: renamed and moved into the trash schema."""

    table: Table
    trash: str
    deps: frozenset[Address] = frozenset()
    shape: str | None = None  # rebuilt: kept only while so shaped (ops/pg/shape.py)

    def statements(self) -> list[Statement]:
        t = self.table
        here = literal(ident(t.schema, t.name))
        record = {"kind": "table", "schema": t.schema, "table": t.name}
        shaped = f" AND {self.shape}" if self.shape else ""
        body = (
            "DECLARE\nr record;\nn int := 0;\nrenamed jsonb := '{}';\n"
            f"BEGIN\nIF to_regclass({here}) IS NOT NULL{shaped} THEN\n"
            + _rename_own(f"to_regclass({here})", self.trash)
            + f"ALTER TABLE {ident(t.schema, t.name)} RENAME TO {ident(self.trash)};\n"
            f"ALTER TABLE {ident(t.schema, self.trash)} SET SCHEMA {ident(TRASH_SCHEMA)};\n"
            + _record(self.trash, record, "renamed")
            + "\nEND IF;\nEND"
        )
        return [create_trash_schema(), Statement(f"DO {dollar_quote(body)}")]

    def hazards(self) -> tuple[Hazard, ...]:
        return (
            Hazard(
                DESTRUCTIVE,
                f"takes table {self.table.name} away; its rows are kept as "
                f"{TRASH_SCHEMA}.{self.trash} (a rollback brings them back) until "
                "`reconciler trash purge`",
            ),
        )

    def describe(self) -> str:
        return f"table (kept in {TRASH_SCHEMA})"


@twin_of(QuarantineTable)
@dataclass(frozen=True, slots=True)
class RestoreTable(CreateWhole):
    """The table back from the trash schema, rows and all; rebuilt empty if purged."""

    table: Table
    trash: str
    deps: frozenset[Address] = frozenset()
    shape: str | None = None  # rebuilt: see QuarantineTable

    def statements(self) -> list[Statement]:
        t = self.table
        kept = literal(ident(TRASH_SCHEMA, self.trash))
        comment = literal(t.comment) if t.comment is not None else "NULL"
        record = f"pg_catalog.obj_description(to_regclass({kept}), 'pg_class')"
        body = (
            "DECLARE\nr record;\nrenamed jsonb;\n"
            f"BEGIN\nIF to_regclass({kept}) IS NOT NULL "
            f"AND to_regclass({literal(ident(t.schema, t.name))}) IS NULL THEN\n"
            # a record that is not JSON (edited by hand) renames nothing back
            f"BEGIN\nrenamed := {record}::jsonb;\n"
            "EXCEPTION WHEN others THEN\nrenamed := '{}';\nEND;\n"
            f"ALTER TABLE {ident(TRASH_SCHEMA, self.trash)} SET SCHEMA {ident(t.schema)};\n"
            f"ALTER TABLE {ident(t.schema, self.trash)} RENAME TO {ident(t.name)};\n"
            + _rename_back(t.schema, "renamed")
            + f"COMMENT ON TABLE {ident(t.schema, t.name)} IS {comment};\nEND IF;\nEND"
        )
        rebuilt = CreateTable(self.table, self.deps).statements()  # IF NOT EXISTS: if purged
        return [Statement(f"DO {dollar_quote(body)}"), *rebuilt, drop_trash_schema_if_empty()]

    def provides(self) -> frozenset[Address]:
        return CreateTable(self.table, self.deps).provides()

    def describe(self) -> str:
        return f"table (back from {TRASH_SCHEMA})"


@dataclass(frozen=True, slots=True)
class QuarantineColumn(DropWhole):
    """DROP COLUMN that keeps the values: copied with the primary key into the trash first."""

    schema: str
    table: str
    column: Column
    key: tuple[str, ...]  # the table's primary key columns
    trash: str
    deps: frozenset[Address] = frozenset()

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.schema, self.table, self.column.name)

    def statements(self) -> list[Statement]:
        kept = ident(TRASH_SCHEMA, self.trash)
        column_exists = (
            "EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = "
            f"to_regclass({literal(ident(self.schema, self.table))}) AND attname = "
            f"{literal(self.column.name)} AND NOT attisdropped)"
        )
        fields = {
            "kind": "column",
            "schema": self.schema,
            "table": self.table,
            "column": self.column.name,
            "key": ",".join(self.key),
        }
        here = ident(self.schema, self.table)
        selected = idents([*self.key, self.column.name])
        body = (
            f"BEGIN\nIF {column_exists} THEN\n"
            f"IF to_regclass({literal(kept)}) IS NULL THEN\n"
            f"CREATE TABLE {kept} AS SELECT {selected} FROM {here};\n"
            + _record(self.trash, fields)
            # A copy left by an earlier restore holds values whose row was gone: the rows the
            # table has now replace theirs by key, the others stay kept.
            + f"\nELSE\nDELETE FROM {kept} AS kept USING {here} AS t WHERE {_match(self.key)};\n"
            f"INSERT INTO {kept} SELECT {selected} FROM {here};\n"
            "END IF;\nEND IF;\nEND"
        )
        drop = DropColumn(self.schema, self.table, self.column, self.deps).statements()
        return [create_trash_schema(), Statement(f"DO {dollar_quote(body)}"), *drop]

    def depends_on(self) -> frozenset[Address]:
        # The copy selects the key by its name in the desired state: a rename of a key column
        # in the same plan runs first (pipeline/graph.py, rule 1), and its undo after this
        # change's undo puts the values back.
        keys = {Address.of("pg", "column", self.schema, self.table, k) for k in self.key}
        return DropColumn(self.schema, self.table, self.column, self.deps).depends_on() | keys

    def hazards(self) -> tuple[Hazard, ...]:
        return (
            Hazard(
                DESTRUCTIVE,
                f"drops column {self.column.name}; its values are kept with the key as "
                f"{TRASH_SCHEMA}.{self.trash} (a rollback re-adds the column, at the end of "
                "the table, and fills it back) until `reconciler trash purge`",
            ),
        )

    def describe(self) -> str:
        return f"column (values kept in {TRASH_SCHEMA})"


@twin_of(QuarantineColumn)
@dataclass(frozen=True, slots=True)
class RestoreColumn(CreateWhole):
    """The column re-added and filled back by key from its copy. The copy is then dropped,
    unless values are left in it whose row is gone (deleted, or its key changed): those stay
    in the trash rather than being lost, for `trash list` to show."""

    schema: str
    table: str
    column: Column
    key: tuple[str, ...]
    trash: str
    deps: frozenset[Address] = frozenset()

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.schema, self.table, self.column.name)

    def statements(self) -> list[Statement]:
        kept = ident(TRASH_SCHEMA, self.trash)
        col = ident(self.column.name)
        here = ident(self.schema, self.table)
        match = _match(self.key)
        body = (
            f"BEGIN\nIF to_regclass({literal(kept)}) IS NOT NULL THEN\n"
            f"UPDATE {here} AS t SET {col} = kept.{col} FROM {kept} AS kept WHERE {match};\n"
            f"DELETE FROM {kept} AS kept USING {here} AS t WHERE {match};\n"
            f"IF NOT EXISTS (SELECT FROM {kept}) THEN\nDROP TABLE {kept};\nEND IF;\n"
            "END IF;\nEND"
        )
        added = AddColumn(self.schema, self.table, self.column, self.deps).statements()
        return [*added, Statement(f"DO {dollar_quote(body)}"), drop_trash_schema_if_empty()]

    def provides(self) -> frozenset[Address]:
        return AddColumn(self.schema, self.table, self.column, self.deps).provides()

    def depends_on(self) -> frozenset[Address]:
        return AddColumn(self.schema, self.table, self.column, self.deps).depends_on()

    def describe(self) -> str:
        return f"column {self.column.type} (values back from {TRASH_SCHEMA})"


def _match(key: tuple[str, ...]) -> str:
    """A row of the table (`t`) and its kept values (`kept`) by the primary key."""
    return " AND ".join(f"t.{ident(k)} = kept.{ident(k)}" for k in key)


def quarantine_key(t: Table, column: Column) -> tuple[str, ...] | None:
    """The key a column's values are kept by: the primary key, unless the column is part of
    it, generated (recomputed anyway) or an identity that refuses updates."""
    pk = t.primary_key
    if pk is None or column.name in pk.columns or column.generated is not None:
        return None
    if column.identity == "always":
        return None
    return pk.columns
