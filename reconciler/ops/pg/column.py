"""Column changes: add, drop, rename (attribute alters: column_alter.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pglast
from pglast.visitors import Visitor

from reconciler.model.address import Address
from reconciler.model.names import make_object_name
from reconciler.model.pg import Column
from reconciler.ops.base import (
    ACCESS_EXCLUSIVE,
    COLUMN_ORDER,
    DESTRUCTIVE,
    MAY_FAIL,
    TABLE_REWRITE,
    Action,
    Change,
    Hazard,
    Statement,
    brief_lock,
)
from reconciler.ops.pg.table import rename_identity_sequence
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import (
    column_def,
    guarded,
    ident,
    identity_sequence_address,
    literal,
    owned_sequence,
    owned_sequence_address,
    owned_sequence_comment,
    run_unless,
)

# A default Postgres evaluates once when a column is added (PostgreSQL 11+), so the table is not
# rewritten: constants and these stable functions. Any other function call may be volatile and
# is assumed to be (over-warning is the safe side for a hazard).
_STABLE_FUNCTIONS = frozenset(
    {"now", "statement_timestamp", "transaction_timestamp", "current_setting", "lower", "upper"}
)


def _volatile(default: str | None) -> bool:
    if default is None or "(" not in default:
        return False
    try:
        calls = _function_names(default)
    except Exception:  # text from the catalog or the loader always parses; be cautious anyway
        return True
    return not calls <= _STABLE_FUNCTIONS


def _function_names(expression: str) -> set[str]:
    names: set[str] = set()

    class Calls(Visitor):
        def visit_FuncCall(self, ancestors, node) -> None:
            names.add(node.funcname[-1].sval)

    Calls()(pglast.parse_sql(f"SELECT {expression}"))
    return names


def type_change_rewrites(old: str, new: str) -> bool:
    """False for the binary-coercible widenings Postgres performs without a rewrite."""
    if new == "text" and old.startswith("character varying"):
        return False
    if old.startswith("character varying(") and new.startswith("character varying("):
        return int(new[18:-1]) < int(old[18:-1]) if new[18:-1].isdigit() else True
    return not (old.startswith("character varying(") and new == "character varying")


_INTEGERS = ("smallint", "integer", "bigint")


def keeps_every_value(old: str, new: str) -> bool:
    """Whether the assignment cast from type `old` to `new` gives every value back unchanged,
    whatever the values: the widenings above, a wider integer, an integer as numeric, real as
    double precision. False where only the values can tell (pipeline/lossy.py asks them)."""
    if old == new or not type_change_rewrites(old, new):
        return True
    if old in _INTEGERS and new in _INTEGERS:
        return _INTEGERS.index(new) >= _INTEGERS.index(old)
    return (old in _INTEGERS and new == "numeric") or (old, new) == ("real", "double precision")


def on_table(schema: str, table: str, deps: frozenset[Address]) -> frozenset[Address]:
    return frozenset({Address.of("pg", "table", schema, table), *deps})


def describe_details(details: list[dict]) -> str:
    """`type integer → bigint, nullable True → False`: one line for the plan output."""
    return ", ".join(f"{d['attribute']} {d['old']!s} → {d['new']!s}" for d in details)


@dataclass(frozen=True, slots=True)
class AddColumn(CreateWhole):
    schema: str
    table: str
    column: Column
    deps: frozenset[Address] = frozenset()
    # The YAML lists it before a column the table keeps: Postgres appends it all the same
    out_of_order: bool = False
    child: bool = False  # of a table that inherits: its way back drops it only while its own

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.schema, self.table, self.column.name)

    def statements(self) -> list[Statement]:
        owned = (
            owned_sequence(self.schema, self.table, self.column) if self.column.sequence else None
        )
        out = [Statement(owned[0])] if owned else []
        out.append(
            Statement(
                f"ALTER TABLE {ident(self.schema, self.table)} "
                f"ADD COLUMN IF NOT EXISTS {column_def(self.column)}"
            )
        )
        if owned:
            out.append(Statement(owned[1]))
            out += [Statement(text) for text in owned_sequence_comment(self.column)]
        if self.column.comment is not None:
            out.append(
                Statement(
                    f"COMMENT ON COLUMN {ident(self.schema, self.table, self.column.name)} IS "
                    f"{literal(self.column.comment)}"
                )
            )
        return out

    def provides(self) -> frozenset[Address]:
        seqs = identity_sequence_address(self.schema, self.table, self.column)
        return frozenset({self.address}) | owned_sequence_address(self.column) | seqs

    def depends_on(self) -> frozenset[Address]:
        return on_table(self.schema, self.table, self.deps)

    def hazards(self) -> tuple[Hazard, ...]:
        c = self.column
        out = []
        if not c.nullable and c.default is None and c.identity is None and c.generated is None:
            out.append(Hazard(MAY_FAIL, "NOT NULL without a default fails if the table has rows"))
        if c.generated is not None or _volatile(c.default):
            out.append(
                Hazard(TABLE_REWRITE, "a volatile default or generated column rewrites the table")
            )
        else:
            out.append(brief_lock(self.table))
        if self.out_of_order:
            out.append(
                Hazard(
                    COLUMN_ORDER,
                    f"column {self.column.name} goes at the end of {self.table}, not where the "
                    "YAML lists it: Postgres appends new columns, and only rebuilding the table "
                    "would reorder them",
                )
            )
        return tuple(out)

    def describe(self) -> str:
        return f"column {self.column.type}"


@twin_of(AddColumn)
@dataclass(frozen=True, slots=True)
class DropColumn(DropWhole):
    schema: str
    table: str
    column: Column
    deps: frozenset[Address] = frozenset()
    # Of a table that inherits: dropped only while it is its own, not the column of the name
    # a parent gives it that a second run of the file finds (it goes with the parent's).
    child: bool = False

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.schema, self.table, self.column.name)

    def statements(self) -> list[Statement]:
        t = ident(self.schema, self.table)
        drop = f"ALTER TABLE {t} DROP COLUMN IF EXISTS {ident(self.column.name)}"
        if self.child:
            given = (
                "SELECT FROM pg_catalog.pg_attribute WHERE attrelid = pg_catalog.to_regclass("
                f"{literal(t)}) AND attname = {literal(self.column.name)} AND attinhcount > 0"
            )
            drop = run_unless(given, drop)
        return [Statement(drop)]

    def depends_on(self) -> frozenset[Address]:
        return on_table(self.schema, self.table, self.deps)

    def hazards(self) -> tuple[Hazard, ...]:
        if self.column.generated is not None:
            # Nothing is lost: the values are computed again when the column is re-added.
            return (Hazard(ACCESS_EXCLUSIVE, f"drops generated column {self.column.name}"),)
        return (
            Hazard(
                DESTRUCTIVE,
                f"drops column {self.column.name} and its data; a rollback re-adds it empty, "
                "at the end of the table",
            ),
        )

    def describe(self) -> str:
        return "column"


@dataclass(frozen=True, slots=True)
class RenameColumn(Change):
    schema: str
    table: str
    old_name: str
    new_name: str
    identity: bool = False
    action = Action.RENAME

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.schema, self.table, self.new_name)

    def statements(self) -> list[Statement]:
        rename = (
            f"ALTER TABLE {ident(self.schema, self.table)} "
            f"RENAME COLUMN {ident(self.old_name)} TO {ident(self.new_name)}"
        )
        out = [Statement(guarded(rename, "undefined_column"))]
        if self.identity:
            out.append(rename_identity_sequence(self.schema, self.table, self.new_name))
        return out

    def reverse(self) -> Change:
        return RenameColumn(self.schema, self.table, self.new_name, self.old_name, self.identity)

    def provides(self) -> frozenset[Address]:
        if not self.identity:  # else: its sequence renamed too (its grants need the new name)
            return frozenset({self.address})
        seq = make_object_name(self.table, self.new_name, "seq")
        return frozenset({self.address, Address.of("pg", "sequence", self.schema, seq)})

    def depends_on(self) -> frozenset[Address]:
        return frozenset({Address.of("pg", "table", self.schema, self.table)})

    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard(ACCESS_EXCLUSIVE, "renaming breaks clients still using the old name"),)

    def details(self) -> list[dict]:
        return [{"attribute": "name", "old": self.old_name, "new": self.new_name}]

    def describe(self) -> str:
        return f"rename column {self.old_name} → {self.new_name}"
