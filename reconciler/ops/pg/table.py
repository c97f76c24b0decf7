"""Table-level changes: create (with columns and inline constraints), drop, rename. A table's
parents (attached, moved to another parent, inheriting) are parents.py's.

Foreign keys are never inline: they are AddConstraint changes ordered after both tables, which
is how mutual and self references plan without cycles. Indexes are their own changes too.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.names import make_object_name
from reconciler.model.pg import Table
from reconciler.ops.base import (
    ACCESS_EXCLUSIVE,
    DESTRUCTIVE,
    Action,
    Change,
    Hazard,
    Statement,
)
from reconciler.ops.pg.policy import row_security_sql, row_security_state
from reconciler.ops.pg.replica import replica_identity_sql
from reconciler.ops.pg.shape import while_shaped
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import (
    column_def,
    constraint_def,
    dollar_quote,
    drop_if_kind,
    guarded,
    ident,
    identity_sequence_address,
    literal,
    owned_sequence,
    owned_sequence_address,
    owned_sequence_comment,
    plain_add_constraint,
)


def table_comment_statements(t: Table) -> list[Statement]:
    out = []
    name = ident(t.schema, t.name)
    if t.comment is not None:
        out.append(Statement(f"COMMENT ON TABLE {name} IS {literal(t.comment)}"))
    for c in t.columns:
        if c.comment is not None:
            out.append(
                Statement(
                    f"COMMENT ON COLUMN {ident(t.schema, t.name, c.name)} IS {literal(c.comment)}"
                )
            )
    for k in t.constraints():
        if k.comment is not None and k not in t.foreign_keys:
            out.append(
                Statement(
                    f"COMMENT ON CONSTRAINT {ident(k.name)} ON {name} IS {literal(k.comment)}"
                )
            )
    return out


def rename_identity_sequence(schema: str, table: str, column: str) -> Statement:
    """Give the sequence behind an identity column the name a fresh CREATE would give it.

    The sequence is found from the column (its actual name may carry a clash suffix), and the
    new name is chosen as Postgres does: `<table>_<column>_seq`, or with `seq1`, `seq2` … when
    that is taken, each shortened to fit. Runs after the rename, so it sees the new names.
    """
    labels = ["seq", *(f"seq{i}" for i in range(1, 10))]
    names = ", ".join(literal(make_object_name(table, column, label)) for label in labels)
    # A second run of the file may find the column renamed since: then there is nothing to do.
    body = (
        f"DECLARE seq regclass; candidate text; BEGIN "
        f"IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute "
        f"WHERE attrelid = to_regclass({literal(ident(schema, table))}) "
        f"AND attname = {literal(column)} AND NOT attisdropped) THEN RETURN; END IF; "
        f"seq := pg_get_serial_sequence({literal(ident(schema, table))}, "
        f"{literal(column)})::regclass; "
        f"IF seq IS NULL THEN RETURN; END IF; "
        f"FOREACH candidate IN ARRAY ARRAY[{names}] LOOP "
        f"IF to_regclass(format('%I.%I', {literal(schema)}, candidate)) = seq THEN RETURN; END IF; "
        f"IF to_regclass(format('%I.%I', {literal(schema)}, candidate)) IS NULL THEN "
        "EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', seq, candidate); RETURN; END IF; "
        "END LOOP; END"
    )
    return Statement(f"DO {dollar_quote(body)}")


def _valid(k: object) -> bool:
    return getattr(k, "valid", True)


def not_valid_checks(t: Table, later: frozenset[str] = frozenset()) -> list[Statement]:
    """NOT VALID checks cannot be written inside CREATE TABLE: each is added after it (those
    in `later` by a change of their own)."""
    table = ident(t.schema, t.name)
    return [
        Statement(
            guarded(f"ALTER TABLE {table} ADD {constraint_def(k)}", "duplicate_object"),
            plain=plain_add_constraint(table, k),
        )
        for k in t.checks
        if not k.valid and k.name not in later
    ]


def create_table_sql(t: Table, *, if_not_exists: bool = True) -> str:
    """CREATE TABLE with columns, primary key, uniques and checks (no foreign keys); a
    partition as PARTITION OF its parent, which gives it its columns."""
    lines = [column_def(c) for c in t.columns]
    inline = [k for k in t.constraints() if k not in t.foreign_keys and _valid(k)]
    lines += [constraint_def(k) for k in inline]
    body = ",\n".join(f"    {line}" for line in lines)
    name = ident(t.schema, t.name)
    key = f" PARTITION BY {t.partition_by}" if t.partition_by else ""
    key += f" WITH ({', '.join(t.options)})" if t.options else ""
    create = "CREATE UNLOGGED TABLE" if t.unlogged else "CREATE TABLE"
    create += " IF NOT EXISTS" if if_not_exists else ""
    if t.partition_of is not None:
        own = f" (\n{body}\n)" if lines else ""
        parent = ident(*t.partition_of)
        return f"{create} {name} PARTITION OF {parent}{own} {t.bound}{key}"
    inherits = f" INHERITS ({', '.join(ident(*p) for p in t.inherits)})" if t.inherits else ""
    return f"{create} {name} (\n{body}\n){inherits}{key}"


@dataclass(frozen=True, slots=True)
class CreateTable(CreateWhole):
    table: Table
    deps: frozenset[Address] = frozenset()  # schema, enum types, extensions (from diff)
    shape: str | None = None  # rebuilt: its drop on the way back runs only while so shaped
    carried: bool = False  # rebuilt, its rows carried over (ops/pg/rows.py)
    # NOT VALID checks added by their own change, after the partitions or child tables the
    # plan makes (they are NOT VALID there too; a table made after a check has it validated)
    later: frozenset[str] = frozenset()
    retaken: bool = False  # the plan drops a view of its name: so does the way back

    def statements(self) -> list[Statement]:
        t = self.table
        owned = [owned_sequence(t.schema, t.name, c) for c in t.columns if c.sequence]
        drafts = [
            owned_sequence(t.schema, t.name, c, if_not_exists=False)[0]
            for c in t.columns
            if c.sequence
        ]
        name = ident(t.schema, t.name)
        return [
            *(Statement(b, plain=d) for (b, _), d in zip(owned, drafts, strict=True)),
            Statement(create_table_sql(t), plain=create_table_sql(t, if_not_exists=False)),
            *not_valid_checks(t, self.later),
            *(Statement(f"ALTER TABLE {name} ALTER {ident(c)} SET NOT NULL") for c in t.not_null),
            *(
                row_security_sql(t.schema, t.name, row_security_state(t))
                if row_security_state(t) != "off"
                else []
            ),
            *(  # USING INDEX is set once the index is built (diff/replica.py)
                [
                    Statement(
                        replica_identity_sql(t.schema, t.name, t.replica_identity),
                        plain=replica_identity_sql(
                            t.schema, t.name, t.replica_identity, if_exists=False
                        ),
                    )
                ]
                if t.replica_identity in ("full", "nothing")
                else []
            ),
            *(Statement(after) for _, after in owned),
            *(  # as Postgres makes a serial column's sequence of an unlogged table
                Statement(f"ALTER SEQUENCE {c.sequence} SET UNLOGGED")
                for c in t.columns
                if c.sequence and t.unlogged
            ),
            *(Statement(text) for c in t.columns for text in owned_sequence_comment(c)),
            *table_comment_statements(t),
            *(  # made again: owned as before, its sequences too (diff/owners.py)
                [Statement(f"ALTER TABLE {name} OWNER TO {ident(t.owner)}")] if t.owner else []
            ),
        ]

    def provides(self) -> frozenset[Address]:
        t = self.table
        inner = {t.column_address(c.name) for c in t.columns}
        inner |= {t.constraint_address(k.name) for k in t.constraints() if k not in t.foreign_keys}
        for c in t.columns:
            inner |= owned_sequence_address(c) | identity_sequence_address(t.schema, t.name, c)
        return frozenset({t.address, *inner})

    def describe(self) -> str:
        return f"table ({len(self.table.columns)} columns)"


@twin_of(CreateTable)
@dataclass(frozen=True, slots=True)
class DropTable(DropWhole):
    table: Table
    deps: frozenset[Address] = frozenset()
    retaken: bool = False  # a view of the plan takes its name (a second run leaves that one)
    # rebuilt (diff/rebuilds.py): dropped only while so shaped (ops/pg/shape.py), for the table
    # the plan creates in its place is another shape
    shape: str | None = None
    carried: bool = False  # rebuilt, its rows carried over (ops/pg/rows.py): nothing lost
    # partitioned, and every partition moves to another parent first: no row goes with it
    emptied: bool = False

    def statements(self) -> list[Statement]:
        # No CASCADE: dependent foreign keys and indexes are dropped by their own changes first,
        # so anything unexpected makes Postgres refuse instead of silently taking it along.
        t = self.table
        name = ident(t.schema, t.name)
        if self.shape is not None:
            drop = [f"DROP TABLE {name}"]
            if t.partition_of is not None:
                drop.insert(0, f"ALTER TABLE {ident(*t.partition_of)} DETACH PARTITION {name}")
            return [Statement(while_shaped(drop, self.shape))]
        text = f"DROP TABLE IF EXISTS {name}"
        drop = Statement(drop_if_kind(text, name, "rp") if self.retaken else text)
        if t.partition_of is None:
            return [drop]
        # Detached first: a partition of a table that foreign keys reference cannot be dropped
        # while attached (the keys' copies for it depend on it); DETACH removes those copies.
        parent = ident(*t.partition_of)
        detach = f"ALTER TABLE {parent} DETACH PARTITION {name}"
        attached = (  # a second run may find the parent rebuilt, unpartitioned
            "EXISTS (SELECT FROM pg_catalog.pg_inherits WHERE inhrelid = "
            f"pg_catalog.to_regclass({literal(name)}) AND inhparent = "
            f"pg_catalog.to_regclass({literal(parent)}))"
        )
        return [Statement(while_shaped([detach], attached)), drop]

    def hazards(self) -> tuple[Hazard, ...]:
        name = self.table.name
        again = " to create it again in its new shape" if self.shape else ""
        if self.carried:
            what = f"drops table {name}{again}; its rows are carried over (pg.rows)"
            return (Hazard(ACCESS_EXCLUSIVE, what),)
        if self.emptied:
            what = f"drops partitioned table {name}; its partitions move to other parents first"
            return (Hazard(ACCESS_EXCLUSIVE, what),)
        return (Hazard(DESTRUCTIVE, f"drops table {name} and all its rows{again}"),)

    def describe(self) -> str:
        return "table"


@dataclass(frozen=True, slots=True)
class RenameTable(Change):
    schema: str
    old_name: str
    new_name: str
    column_names: tuple[str, ...] = ()
    identity_columns: tuple[str, ...] = ()
    action = Action.RENAME

    @property
    def address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.new_name)

    def statements(self) -> list[Statement]:
        out = [
            Statement(
                f"ALTER TABLE IF EXISTS {ident(self.schema, self.old_name)} "
                f"RENAME TO {ident(self.new_name)}"
            )
        ]
        # Identity sequences are named after their table; a fresh create would name them so.
        for col in self.identity_columns:
            out.append(rename_identity_sequence(self.schema, self.new_name, col))
        return out

    def reverse(self) -> Change:
        return RenameTable(
            self.schema, self.new_name, self.old_name, self.column_names, self.identity_columns
        )

    def provides(self) -> frozenset[Address]:
        cols = {
            Address.of("pg", "column", self.schema, self.new_name, c) for c in self.column_names
        }
        seqs = {  # identity sequences renamed with it (their grants need the new names)
            Address.of("pg", "sequence", self.schema, make_object_name(self.new_name, c, "seq"))
            for c in self.identity_columns
        }
        return frozenset({self.address, *cols, *seqs})

    def depends_on(self) -> frozenset[Address]:
        return frozenset({Address.of("pg", "schema", self.schema)})

    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard(ACCESS_EXCLUSIVE, "renaming breaks clients still using the old name"),)

    def details(self) -> list[dict]:
        return [{"attribute": "name", "old": self.old_name, "new": self.new_name}]

    def describe(self) -> str:
        return f"rename table {self.old_name} → {self.new_name}"
