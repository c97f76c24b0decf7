"""Column changes: add, drop, rename, and attribute alters (type, default, null, identity)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import pglast
from pglast.visitors import Visitor

from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg import Column
from reconciler.model.sequence_options import alter_sequence_clauses, set_clauses
from reconciler.ops.base import (
    ACCESS_EXCLUSIVE,
    AFTER,
    DESTRUCTIVE,
    MAY_FAIL,
    ONLINE,
    TABLE_REWRITE,
    Action,
    Change,
    Hazard,
    Statement,
    brief_lock,
)
from reconciler.ops.pg_table import rename_identity_sequence
from reconciler.ops.sqltext import (
    column_def,
    dollar_quote,
    guarded,
    ident,
    identity_clause,
    literal,
    owned_sequence,
    owned_sequence_address,
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


def _on_table(schema: str, table: str, deps: frozenset[Address]) -> frozenset[Address]:
    return frozenset({Address.of("pg", "table", schema, table), *deps})


def describe_details(details: list[dict]) -> str:
    """`type integer → bigint, nullable True → False`: one line for the plan output."""
    return ", ".join(f"{d['attribute']} {d['old']!s} → {d['new']!s}" for d in details)


@dataclass(frozen=True, slots=True)
class AddColumn(Change):
    schema: str
    table: str
    column: Column
    deps: frozenset[Address] = frozenset()
    action = Action.CREATE

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
        if self.column.comment is not None:
            out.append(
                Statement(
                    f"COMMENT ON COLUMN {ident(self.schema, self.table, self.column.name)} IS "
                    f"{literal(self.column.comment)}"
                )
            )
        return out

    def reverse(self) -> Change:
        return DropColumn(self.schema, self.table, self.column, self.deps)

    def provides(self) -> frozenset[Address]:
        return frozenset({self.address}) | owned_sequence_address(self.column)

    def depends_on(self) -> frozenset[Address]:
        return _on_table(self.schema, self.table, self.deps)

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
        return tuple(out)

    def describe(self) -> str:
        return f"column {self.column.type}"


@dataclass(frozen=True, slots=True)
class DropColumn(Change):
    schema: str
    table: str
    column: Column
    deps: frozenset[Address] = frozenset()
    action = Action.DROP

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.schema, self.table, self.column.name)

    def statements(self) -> list[Statement]:
        return [
            Statement(
                f"ALTER TABLE {ident(self.schema, self.table)} "
                f"DROP COLUMN IF EXISTS {ident(self.column.name)}"
            )
        ]

    def reverse(self) -> Change:
        return AddColumn(self.schema, self.table, self.column, self.deps)

    def depends_on(self) -> frozenset[Address]:
        return _on_table(self.schema, self.table, self.deps)

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

    def depends_on(self) -> frozenset[Address]:
        return frozenset({Address.of("pg", "table", self.schema, self.table)})

    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard(ACCESS_EXCLUSIVE, "renaming breaks clients still using the old name"),)

    def details(self) -> list[dict]:
        return [{"attribute": "name", "old": self.old_name, "new": self.new_name}]

    def describe(self) -> str:
        return f"rename column {self.old_name} → {self.new_name}"


@dataclass(frozen=True, slots=True)
class AlterColumn(Change):
    """Type, collation, default, nullability and identity of one column (comment: SetComment)."""

    schema: str
    table: str
    old: Column
    new: Column
    deps: frozenset[Address] = frozenset()
    # Enum types cast to nothing but text: converting from one goes through text.
    old_is_enum: bool = False
    new_is_enum: bool = False
    # On a table with rows, SET NOT NULL goes through a check constraint validated after the
    # transaction commits (writes go on), which lets SET NOT NULL skip its scan.
    online: bool = False
    # The reverse of an online SET NOT NULL also drops that check, should it still be there.
    drops_check: str | None = None
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.schema, self.table, self.new.name)

    def changed(self) -> list[str]:
        return [d["attribute"] for d in self.details()]

    def _not_null_online(self) -> bool:
        o, n = self.old, self.new
        changed = self.changed()
        return (
            self.online
            and "nullable" in changed
            and not n.nullable
            and "type" not in changed
            and "collation" not in changed
            and not (n.identity and not o.identity)
        )

    def _not_null_check(self) -> str:
        key = f"{self.schema}.{self.table}.{self.new.name}".encode()
        return f"reconciler_nn_{hashlib.sha256(key).hexdigest()[:16]}"

    def _online_not_null_statements(self, table: str) -> list[Statement]:
        name = ident(self._not_null_check())
        check = (
            f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({ident(self.new.name)} IS NOT NULL)"
        )
        return [
            Statement(guarded(f"{check} NOT VALID", "duplicate_object")),
            Statement(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}", phase=ONLINE),
            Statement(
                f"ALTER TABLE {table} ALTER COLUMN {ident(self.new.name)} SET NOT NULL", phase=AFTER
            ),
            Statement(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}", phase=AFTER),
        ]

    def statements(self) -> list[Statement]:
        o, n = self.old, self.new
        col = ident(n.name)
        acts: list[str] = []
        changed = self.changed()
        # A default of the old type may not cast to the new one: drop it first, set it after.
        type_change = "type" in changed or "collation" in changed
        if o.default is not None and ("default" in changed or type_change):
            acts.append(f"ALTER COLUMN {col} DROP DEFAULT")
        if o.identity and not n.identity:
            acts.append(f"ALTER COLUMN {col} DROP IDENTITY IF EXISTS")
        if type_change:
            collate = f" COLLATE {n.collation}" if n.collation else ""
            via = "::text" if self.old_is_enum else ""
            acts.append(f"ALTER COLUMN {col} TYPE {n.type}{collate} USING {col}{via}::{n.type}")
        if n.default is not None and ("default" in changed or type_change):
            acts.append(f"ALTER COLUMN {col} SET DEFAULT {n.default}")
        online_not_null = self._not_null_online()
        if "nullable" in changed and not online_not_null:
            acts.append(f"ALTER COLUMN {col} {'DROP' if n.nullable else 'SET'} NOT NULL")
        if n.identity and not o.identity:
            acts.append(
                f"ALTER COLUMN {col} ADD GENERATED {n.identity.upper()} AS IDENTITY"
                + identity_clause(n)
            )
        elif n.identity and o.identity:
            sets = []
            if n.identity != o.identity:
                sets.append(f"SET GENERATED {n.identity.upper()}")
            if n.sequence_options != o.sequence_options:
                sets += set_clauses(n.type, o.sequence_options, n.sequence_options)
            if sets:
                acts.append(f"ALTER COLUMN {col} {' '.join(sets)}")
        table = ident(self.schema, self.table)
        becomes_identity = n.identity is not None and o.identity is None
        out = [Statement(self._rerunnable(table, a, becomes_identity)) for a in acts]
        owned = o.sequence is not None and o.sequence == n.sequence and not n.identity
        if owned and o.sequence_options != n.sequence_options:
            clauses = alter_sequence_clauses(n.type, o.sequence_options, n.sequence_options)
            out.append(Statement(f"ALTER SEQUENCE {n.sequence} {' '.join(clauses)}"))
        if online_not_null:
            out += self._online_not_null_statements(table)
        if self.drops_check:
            drop = f"DROP CONSTRAINT IF EXISTS {ident(self.drops_check)}"
            out.append(Statement(f"ALTER TABLE IF EXISTS {table} {drop}"))
        return out

    def _rerunnable(self, table: str, act: str, becomes_identity: bool) -> str:
        """The statement of one action, so that a second run of the file passes: once the
        column is an identity, neither ADD GENERATED nor DROP DEFAULT applies to it again."""
        text = f"ALTER TABLE {table} {act}"
        if not becomes_identity:
            return text
        if " ADD GENERATED " in f" {act}":
            return guarded(text, "object_not_in_prerequisite_state")
        if act.endswith(" DROP DEFAULT"):
            check = (
                "SELECT FROM pg_catalog.pg_attribute WHERE attrelid = "
                f"{literal(table)}::regclass AND attname = {literal(self.new.name)} "
                "AND attidentity <> ''"
            )
            return f"DO {dollar_quote(f'BEGIN IF NOT EXISTS ({check}) THEN {text}; END IF; END')}"
        return text

    def reverse(self) -> Change:
        return AlterColumn(
            self.schema,
            self.table,
            self.new,
            self.old,
            self.deps,
            old_is_enum=self.new_is_enum,
            new_is_enum=self.old_is_enum,
            drops_check=self._not_null_check() if self._not_null_online() else None,
        )

    def depends_on(self) -> frozenset[Address]:
        return _on_table(self.schema, self.table, self.deps)

    def hazards(self) -> tuple[Hazard, ...]:
        out = []
        changed = self.changed()
        if "type" in changed and type_change_rewrites(self.old.type, self.new.type):
            out.append(
                Hazard(
                    TABLE_REWRITE,
                    f"type {self.old.type} → {self.new.type} rewrites the table under an "
                    "ACCESS EXCLUSIVE lock and fails on values that do not convert",
                )
            )
        if self._not_null_online():
            out.append(
                Hazard(
                    MAY_FAIL,
                    "NOT NULL is proved by a check validated after the transaction commits (a "
                    "scan that lets writes go on); NULLs fail it and the plan is undone",
                )
            )
        elif "nullable" in changed and not self.new.nullable:
            out.append(
                Hazard(
                    MAY_FAIL,
                    "SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock and fails on "
                    "NULLs",
                )
            )
        if not any(h.code in (TABLE_REWRITE, MAY_FAIL) for h in out):
            out.append(brief_lock(self.table))
        return tuple(out)

    def details(self) -> list[dict]:
        # name: renames are their own change; comment, generated: handled by other changes.
        # sequence: an owned sequence is created with its column, never altered here.
        return attribute_changes(
            self.old, self.new, exclude=("name", "comment", "generated", "sequence")
        )

    def describe(self) -> str:
        return describe_details(self.details())


@dataclass(frozen=True, slots=True)
class SetGenerated(Change):
    """A change of a column's generation expression, or to/from being generated.

    generated → plain keeps the values (DROP EXPRESSION); every other transition drops and
    re-adds the column, which moves it to the end of the table: Postgres 15 can neither change
    an expression in place nor make an existing column generated.
    """

    schema: str
    table: str
    old: Column
    new: Column
    deps: frozenset[Address] = frozenset()
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.schema, self.table, self.new.name)

    def statements(self) -> list[Statement]:
        table = ident(self.schema, self.table)
        if self.old.generated is not None and self.new.generated is None:
            out = [
                Statement(
                    f"ALTER TABLE {table} ALTER COLUMN {ident(self.new.name)} "
                    "DROP EXPRESSION IF EXISTS"
                )
            ]
            out += AlterColumn(
                self.schema, self.table, dataclasses.replace(self.old, generated=None), self.new
            ).statements()
            return out
        drop = DropColumn(self.schema, self.table, self.old).statements()
        return drop + AddColumn(self.schema, self.table, self.new).statements()

    def reverse(self) -> Change:
        return SetGenerated(self.schema, self.table, self.new, self.old, self.deps)

    def depends_on(self) -> frozenset[Address]:
        return _on_table(self.schema, self.table, self.deps)

    def hazards(self) -> tuple[Hazard, ...]:
        if self.old.generated is None:
            return (
                Hazard(DESTRUCTIVE, f"replaces the values of {self.old.name} by computed ones"),
            )
        if self.new.generated is None:
            return ()
        return (
            Hazard(TABLE_REWRITE, f"re-adds {self.new.name} with its new expression, at the end"),
        )

    def details(self) -> list[dict]:
        return attribute_changes(self.old, self.new, exclude=("name", "comment"))

    def describe(self) -> str:
        return describe_details(self.details())
