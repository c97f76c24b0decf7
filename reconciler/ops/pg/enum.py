"""Enum values removed or reordered: the type is rebuilt, and every column using it retyped.

Postgres can add a value to an enum in place but neither remove nor move one. So the type is
renamed out of the way, created again with the wanted values, each column using it (or an
array of it) is retyped through text, and the old type is dropped — all in the apply's one
transaction. A row holding a value that no longer exists makes the retype fail, and the whole
apply with it: nothing is lost, the plan says so.

Around the retype, what Postgres cannot carry over by itself is taken off and put back: each
column's default (`'x'::the_type` would name the old type), and the checks and partial or
expression indexes reading such a column (their stored expressions compare with the old
type). Views, triggers and policies reading the columns are rebuilt by the diff, as around
any retyped column.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from reconciler.model.address import Address
from reconciler.model.pg import Check, Enum, Index
from reconciler.model.pg_grants import Grant
from reconciler.model.words import counted
from reconciler.ops.base import (
    ACCESS_EXCLUSIVE,
    IRREVERSIBLE,
    MAY_FAIL,
    TABLE_REWRITE,
    Action,
    Change,
    Hazard,
    Statement,
)
from reconciler.ops.pg.constraint import AddConstraint, DropConstraint
from reconciler.ops.pg.grant import grant_statements
from reconciler.ops.pg.index import CreateIndex, DropIndex
from reconciler.sql.render import dollar_quote, ident, literal


@dataclass(frozen=True, slots=True)
class EnumColumn:
    """A column of the enum type (or an array of it) and its default before and after."""

    schema: str
    table: str
    column: str
    array: bool
    old_default: str | None
    new_default: str | None

    def reverse(self) -> EnumColumn:
        return replace(self, old_default=self.new_default, new_default=self.old_default)


@dataclass(frozen=True, slots=True)
class EnumUses:
    """Everything a rebuild of one enum type retypes, or takes off and puts back."""

    columns: tuple[EnumColumn, ...] = ()
    checks: tuple[tuple[str, str, Check], ...] = ()  # (schema, table, check), put back as is
    indexes: tuple[Index, ...] = ()
    # (what a role may be given on the type made again, what it held): the rebuild revokes
    # the rest and grants again all it held
    grants: tuple[tuple[Grant, Grant], ...] = ()

    def reverse(self) -> EnumUses:
        return replace(self, columns=tuple(c.reverse() for c in self.columns))


def _parked_name(e: Enum) -> str:
    """The old type's name while the new one is built: fixed per type, never a user's name."""
    digest = hashlib.sha256(f"{e.schema}.{e.name}".encode()).hexdigest()[:16]
    return f"reconciler_old_enum_{digest}"


def rebuild_statements(old: Enum, new: Enum, uses: EnumUses) -> list[Statement]:
    name = ident(new.schema, new.name)
    parked = _parked_name(new)
    out = [f"ALTER TYPE {name} RENAME TO {ident(parked)}"]
    out.append(f"CREATE TYPE {name} AS ENUM ({', '.join(literal(v) for v in new.labels)})")
    if new.comment is not None:
        out.append(f"COMMENT ON TYPE {name} IS {literal(new.comment)}")
    for made, held in uses.grants:
        extra = tuple(p for p in made.privileges if p not in held.privileges)
        option = tuple(p for p in made.grantable if p not in held.grantable)
        old = replace(held, privileges=extra, grantable=option)
        out += [s.sql for s in grant_statements(old, held)]
    text = [
        s.sql
        for schema, table, k in uses.checks
        for s in DropConstraint(schema, table, k).statements()
    ]
    text += [s.sql for ix in uses.indexes for s in DropIndex(ix).statements()]
    out += text
    by_table: dict[tuple[str, str], list[EnumColumn]] = {}
    for c in uses.columns:
        by_table.setdefault((c.schema, c.table), []).append(c)
    for (schema, table), cols in by_table.items():
        parts = []
        for c in cols:
            col = ident(c.column)
            if c.old_default is not None or c.new_default is not None:
                parts.append(f"ALTER COLUMN {col} DROP DEFAULT")
            suffix = "[]" if c.array else ""
            parts.append(
                f"ALTER COLUMN {col} TYPE {name}{suffix} USING {col}::text{suffix}::{name}{suffix}"
            )
        for c in cols:
            if c.new_default is not None:
                parts.append(f"ALTER COLUMN {ident(c.column)} SET DEFAULT {c.new_default}")
        out.append(f"ALTER TABLE {ident(schema, table)} " + ", ".join(parts))
    out += [
        s.sql
        for schema, table, k in uses.checks
        for s in AddConstraint(schema, table, k).statements()
    ]
    out += [s.sql for ix in uses.indexes for s in CreateIndex(ix).statements()]
    out.append(f"DROP TYPE {ident(new.schema, parked)}")
    # all of it only while the type does not hold the new labels yet: a second run of the
    # file would rebuild it again, rewriting every table using it, or fail where what the
    # rest of the file made again reads the columns
    labels = f"ARRAY[{', '.join(literal(v) for v in new.labels)}]::name[]"
    held = (
        "SELECT array_agg(enumlabel ORDER BY enumsortorder)::name[] FROM pg_catalog.pg_enum "
        f"WHERE enumtypid = pg_catalog.to_regtype({literal(name)})"
    )
    steps = "".join(f"EXECUTE {literal(sql)};\n" for sql in out)
    body = f"BEGIN\nIF ({held}) IS DISTINCT FROM {labels} THEN\n{steps}END IF;\nEND"
    return [Statement(f"DO {dollar_quote(body)}")]


@dataclass(frozen=True, slots=True)
class RebuildEnum(Change):
    """New values, order or removals: rename away, create, retype the columns, drop the old."""

    old: Enum
    new: Enum
    uses: EnumUses = EnumUses()
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        return rebuild_statements(self.old, self.new, self.uses)

    def reverse(self) -> Change:
        return RebuildEnum(self.new, self.old, self.uses.reverse())

    def hazards(self) -> tuple[Hazard, ...]:
        out = []
        removed = [v for v in self.old.labels if v not in self.new.labels]
        if removed and self.uses.columns:
            out.append(
                Hazard(
                    MAY_FAIL,
                    f"rows holding {', '.join(removed)} make the retype fail, and the apply "
                    "with it (nothing is changed then)",
                )
            )
        if self.uses.columns:
            tables = sorted({f"{c.schema}.{c.table}" for c in self.uses.columns})
            out.append(
                Hazard(
                    TABLE_REWRITE,
                    f"the columns using the type are retyped: {', '.join(tables)} rewritten "
                    "under an ACCESS EXCLUSIVE lock",
                )
            )
        else:
            out.append(Hazard(ACCESS_EXCLUSIVE, "the type is dropped and created again"))
        return tuple(out)

    def provides(self) -> frozenset[Address]:
        columns = {
            Address.of("pg", "column", c.schema, c.table, c.column) for c in self.uses.columns
        }
        return frozenset({self.address, *columns})

    def depends_on(self) -> frozenset[Address]:
        return frozenset({Address.of("pg", "schema", self.new.schema)})

    def details(self) -> list[dict]:
        return [{"attribute": "labels", "old": list(self.old.labels), "new": list(self.new.labels)}]

    def describe(self) -> str:
        removed = [v for v in self.old.labels if v not in self.new.labels]
        added = [v for v in self.new.labels if v not in self.old.labels]
        what = [f"remove {', '.join(removed)}"] if removed else []
        what += [f"add {', '.join(added)}"] if added else []
        if not removed and not added:
            what.append("reorder values")
        columns = len(self.uses.columns)
        return f"rebuild the type ({'; '.join(what)}), retyping {counted(columns, 'column')}"


@dataclass(frozen=True, slots=True)
class AddEnumValues(Change):
    early = True  # a view, index or check made in the same plan may use a new value
    """Appends or inserts labels, in place. The reverse rebuilds the type without them, when
    `uses` could be worked out (nothing but table columns use the type); else it cannot."""

    old: Enum
    new: Enum
    uses: EnumUses | None = None
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        out = []
        labels = list(self.old.labels)
        for i, label in enumerate(self.new.labels):
            if label in labels:
                continue
            # Place each new label relative to its predecessor in the desired order.
            where = (
                f" AFTER {literal(self.new.labels[i - 1])}"
                if i > 0
                else f" BEFORE {literal(labels[0])}"
                if labels
                else ""
            )
            # Outside the transaction: a value added in a transaction cannot be used in it.
            out.append(
                Statement(
                    f"ALTER TYPE {ident(self.new.schema, self.new.name)} ADD VALUE IF NOT EXISTS "
                    f"{literal(label)}{where}",
                    transactional=False,
                )
            )
            labels.append(label)
        return out

    def provides(self) -> frozenset[Address]:
        """Its rollback retypes the columns (a rebuild): what reads them is rebuilt around."""
        columns = () if self.uses is None else self.uses.columns
        found = {Address.of("pg", "column", c.schema, c.table, c.column) for c in columns}
        return frozenset({self.address, *found})

    def uses_what_it_makes(self, other: Change) -> bool:
        """Whether `other`'s SQL names a value this adds (a view, index or check using it)."""
        added = [literal(v) for v in self.new.labels if v not in self.old.labels]
        return any(a in s.sql for s in other.statements() for a in added)

    def reverse(self) -> Change:
        if self.uses is None:
            return RemoveEnumValues(self.new, self.old)
        return RebuildEnum(self.new, self.old, self.uses.reverse())

    def hazards(self) -> tuple[Hazard, ...]:
        if self.uses is None:
            return (
                Hazard(
                    IRREVERSIBLE,
                    "Postgres cannot remove an enum value and a function, domain or composite "
                    "type uses this one: the down file cannot undo this step; the value is "
                    "added before (outside) the apply transaction",
                ),
            )
        return (
            Hazard(
                ACCESS_EXCLUSIVE,
                "the value is added before (outside) the apply transaction; a rollback "
                "rebuilds the type without it (refused by the server while rows hold it)",
            ),
        )

    def details(self) -> list[dict]:
        return [{"attribute": "labels", "old": list(self.old.labels), "new": list(self.new.labels)}]

    def describe(self) -> str:
        added = [v for v in self.new.labels if v not in self.old.labels]
        return f"add values {', '.join(added)}"


@dataclass(frozen=True, slots=True)
class RemoveEnumValues(Change):
    """The reverse of AddEnumValues when the type cannot be rebuilt: a comment in a down file,
    flagged at plan time."""

    old: Enum
    new: Enum
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        removed = [v for v in self.old.labels if v not in self.new.labels]
        return [
            Statement(
                f"-- irreversible: enum values {', '.join(removed)} stay in "
                f"{ident(self.new.schema, self.new.name)}"
            )
        ]

    def reverse(self) -> Change:
        return AddEnumValues(self.new, self.old)

    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard(IRREVERSIBLE, "enum values cannot be removed in place"),)

    def describe(self) -> str:
        return "remove values (not possible in place)"
