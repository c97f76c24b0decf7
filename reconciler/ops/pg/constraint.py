"""Constraint changes (primary key, unique, check, foreign key) on existing tables.

A changed constraint is a drop and an add of the same address: the graph orders the drop
first, and foreign keys that lean on a replaced unique key are dropped and re-added around it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from reconciler.model.address import Address, relation_name
from reconciler.model.pg import Check, Constraint, Exclusion, ForeignKey, PrimaryKey, Unique
from reconciler.ops.base import (
    ACCESS_EXCLUSIVE,
    MAY_FAIL,
    ONLINE,
    Action,
    Change,
    Hazard,
    Statement,
)
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import (
    constraint_def,
    guarded,
    ident,
    literal,
    plain_add_constraint,
    run_unless,
)


def constraint_kind(c: Constraint) -> str:
    return {
        PrimaryKey: "primary key",
        Unique: "unique",
        ForeignKey: "foreign key",
        Exclusion: "exclusion constraint",
    }.get(type(c), "check")


def constraint_deps(schema: str, table: str, c: Constraint) -> frozenset[Address]:
    """The table, its columns, and for a foreign key the referenced table, columns and key."""
    deps = {Address.of("pg", "table", schema, table)}
    deps |= {Address.of("pg", "column", schema, table, col) for col in getattr(c, "columns", ())}
    # a NOT VALID check validated on partitions or child tables: after they exist
    deps |= {Address.of("pg", "table", s, n) for s, n in getattr(c, "valid_on", ())}
    if isinstance(c, ForeignKey):
        deps.add(Address.of("pg", "table", c.ref_schema, c.ref_table))
        deps |= {
            Address.of("pg", "column", c.ref_schema, c.ref_table, col) for col in c.ref_columns
        }
    return frozenset(deps)


def validate_below(k: Constraint) -> list[Statement]:
    """VALIDATE CONSTRAINT on each partition or child table a NOT VALID check holds for
    validated (a no-op where it is validated already)."""
    return [
        Statement(f"ALTER TABLE {ident(s, n)} VALIDATE CONSTRAINT {ident(k.name)}")
        for s, n in getattr(k, "valid_on", ())
    ]


def add_constraint_sql(table: str, k: Constraint) -> str:
    """ALTER TABLE … ADD CONSTRAINT, a no-op when the constraint is there already (a second
    run of the file). Only a constraint of that name and kind on that table passes: any other
    holder of the name (an index, another table's constraint, a primary key of another name)
    fails the statement, as a clash the plan did not foresee."""
    errors = ["duplicate_object", "duplicate_table"]
    if isinstance(k, PrimaryKey):
        errors.append("invalid_table_definition")  # "multiple primary keys … not allowed"
    same = (
        "EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE conrelid = "
        f"pg_catalog.to_regclass({literal(table)}) AND conname = {literal(k.name)} "
        f"AND contype = {literal(_CONTYPE[type(k)])})"
    )
    return guarded(f"ALTER TABLE {table} ADD {constraint_def(k)}", *errors, same=same)


_CONTYPE = {PrimaryKey: "p", Unique: "u", Check: "c", ForeignKey: "f", Exclusion: "x"}


@dataclass(frozen=True, slots=True)
class AddConstraint(CreateWhole):
    schema: str
    table: str
    constraint: Constraint
    # The referenced table's unique/primary key (for FKs), resolved by diff from the snapshot.
    ref_key: Address | None = None
    new_table: bool = False  # on a table created by the same plan: nothing to scan or lock
    deps: frozenset[Address] = frozenset()  # columns a check expression references
    # A valid check or foreign key on a table with rows: added NOT VALID (a brief lock, new
    # rows checked from then on), then validated after the transaction commits, which scans
    # the table while writes go on.
    online: bool = False
    on_partition: bool = False  # its way back drops it only while its own (DropConstraint)

    @property
    def address(self) -> Address:
        return Address.of("pg", "constraint", self.schema, self.table, self.constraint.name)

    def provides(self) -> frozenset[Address]:
        if isinstance(self.constraint, PrimaryKey | Unique | Exclusion):  # and its index
            return frozenset({self.address, relation_name(self.schema, self.constraint.name)})
        return frozenset({self.address})

    def _validated_later(self) -> bool:
        return self.online and validates_online(self.constraint) and self.constraint.valid

    def statements(self) -> list[Statement]:
        table = ident(self.schema, self.table)
        k = self.constraint
        if self._validated_later():
            out = [
                Statement(add_constraint_sql(table, dataclasses.replace(k, valid=False))),
                Statement(f"ALTER TABLE {table} VALIDATE CONSTRAINT {ident(k.name)}", phase=ONLINE),
            ]
        else:
            add = Statement(add_constraint_sql(table, k), plain=plain_add_constraint(table, k))
            out = [add, *validate_below(k)]
        if self.constraint.comment is not None:
            out.append(
                Statement(
                    f"COMMENT ON CONSTRAINT {ident(self.constraint.name)} ON {table} IS "
                    f"{literal(self.constraint.comment)}"
                )
            )
        return out

    def depends_on(self) -> frozenset[Address]:
        deps = constraint_deps(self.schema, self.table, self.constraint) | self.deps
        return deps | {self.ref_key} if self.ref_key else deps

    def hazards(self) -> tuple[Hazard, ...]:
        if self.new_table or not getattr(self.constraint, "valid", True):
            return ()
        kind = constraint_kind(self.constraint)
        if self._validated_later():
            return (
                Hazard(
                    MAY_FAIL,
                    f"the {kind} is added NOT VALID, then validated after the transaction "
                    "commits (a scan that lets writes go on); rows violating it fail the "
                    "validation and the plan is undone",
                ),
            )
        return (
            Hazard(
                MAY_FAIL,
                f"validating the {kind} scans the table under a lock that blocks writes, and "
                "fails on rows that violate it",
            ),
        )

    def describe(self) -> str:
        how = ", validated online" if self._validated_later() else ""
        return constraint_kind(self.constraint) + how


@twin_of(AddConstraint)
@dataclass(frozen=True, slots=True)
class DropConstraint(DropWhole):
    schema: str
    table: str
    constraint: Constraint
    ref_key: Address | None = None
    deps: frozenset[Address] = frozenset()
    # On a partition: dropped only while it is the partition's own, not the copy of its
    # parent's of the name that a second run of the file finds (it goes with the parent's).
    on_partition: bool = False

    @property
    def address(self) -> Address:
        return Address.of("pg", "constraint", self.schema, self.table, self.constraint.name)

    def statements(self) -> list[Statement]:
        t = ident(self.schema, self.table)
        drop = f"ALTER TABLE IF EXISTS {t} DROP CONSTRAINT IF EXISTS {ident(self.constraint.name)}"
        if self.on_partition:
            copy = (
                "SELECT FROM pg_catalog.pg_constraint WHERE conrelid = "
                f"pg_catalog.to_regclass({literal(t)}) AND conname = "
                f"{literal(self.constraint.name)} AND (conparentid <> 0 OR NOT conislocal)"
            )
            drop = run_unless(copy, drop)
        return [Statement(drop)]

    def depends_on(self) -> frozenset[Address]:
        deps = constraint_deps(self.schema, self.table, self.constraint) | self.deps
        return deps | {self.ref_key} if self.ref_key else deps

    def hazards(self) -> tuple[Hazard, ...]:
        return (
            Hazard(
                ACCESS_EXCLUSIVE,
                f"drops {constraint_kind(self.constraint)} {self.constraint.name}; data it "
                "protected is no longer checked",
            ),
        )

    def describe(self) -> str:
        return constraint_kind(self.constraint)


@dataclass(frozen=True, slots=True)
class SetValidity(Change):
    """A check or foreign key becomes validated (VALIDATE CONSTRAINT: a scan that blocks no
    writes) or NOT VALID again (dropped and added back NOT VALID: instant, still enforced on
    new rows). Nothing else about it changes."""

    schema: str
    table: str
    old: Constraint
    new: Constraint
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "constraint", self.schema, self.table, self.new.name)

    def statements(self) -> list[Statement]:
        table = ident(self.schema, self.table)
        name = ident(self.new.name)
        if getattr(self.new, "valid", True):
            return [Statement(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")]
        was, now = set(getattr(self.old, "valid_on", ())), set(getattr(self.new, "valid_on", ()))
        if not getattr(self.old, "valid", True) and was <= now:
            return validate_below(dataclasses.replace(self.new, valid_on=tuple(sorted(now - was))))
        # no command makes a validated copy NOT VALID again: the check is added again
        out = [
            Statement(f"ALTER TABLE {table} DROP CONSTRAINT {name}"),
            Statement(add_constraint_sql(table, self.new)),
            *validate_below(self.new),
        ]
        if self.new.comment is not None:
            out.append(
                Statement(f"COMMENT ON CONSTRAINT {name} ON {table} IS {literal(self.new.comment)}")
            )
        return out

    def reverse(self) -> Change:
        return SetValidity(self.schema, self.table, self.new, self.old)

    def depends_on(self) -> frozenset[Address]:
        return constraint_deps(self.schema, self.table, self.new)

    def hazards(self) -> tuple[Hazard, ...]:
        if not getattr(self.new, "valid", True):
            if not getattr(self.new, "valid_on", ()):
                return ()
            below = ", ".join(n for _, n in self.new.valid_on)  # type: ignore[union-attr]
            return (
                Hazard(
                    MAY_FAIL,
                    f"validating the check on {below} scans them (writes go on) and fails on "
                    "rows that violate it",
                ),
            )
        return (
            Hazard(
                MAY_FAIL,
                f"validating the {constraint_kind(self.new)} scans the table (writes go on) "
                "and fails on rows that violate it",
            ),
        )

    def details(self) -> list[dict]:
        out = []
        if self.old.valid != self.new.valid:
            out.append({"attribute": "valid", "old": self.old.valid, "new": self.new.valid})
        was, now = getattr(self.old, "valid_on", ()), getattr(self.new, "valid_on", ())
        if was != now:
            names = [[".".join(x) for x in side] for side in (was, now)]
            out.append({"attribute": "valid_on", "old": names[0], "new": names[1]})
        return out

    def describe(self) -> str:
        if getattr(self.new, "valid", True):
            state = "validate"
        elif not getattr(self.old, "valid", True):
            state = "validated on other partitions or child tables"
        else:
            state = "mark NOT VALID"
        return f"{constraint_kind(self.new)}: {state}"


def validates_online(k: Constraint) -> bool:
    """Whether Postgres can add `k` NOT VALID and validate it later (checks, foreign keys)."""
    return isinstance(k, Check | ForeignKey)


__all__ = [
    "AddConstraint",
    "DropConstraint",
    "SetValidity",
    "constraint_deps",
    "constraint_kind",
    "validates_online",
]
