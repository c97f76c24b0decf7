"""Foreign keys that must step aside while what they lean on changes.

Postgres refuses to drop a primary key, unique constraint or unique index that a foreign key
references, and to retype one end of a foreign key while the other end keeps its type. When a
plan drops (or replaces, or renames) such a key, or retypes a column on either end, every
foreign key concerned that the plan does not already touch is dropped before and re-added
after — in its desired form.
"""

from __future__ import annotations

from reconciler.diff.carry import carried_rows
from reconciler.diff.context import DiffContext
from reconciler.model.address import Address
from reconciler.model.pg import ForeignKey
from reconciler.ops.base import Action, Change
from reconciler.ops.pg_column_alter import AlterColumn
from reconciler.ops.pg_constraint import AddConstraint, DropConstraint


def readd_dependent_foreign_keys(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    dropped = {c.address for c in changes if c.action is Action.DROP}
    retyped = {
        c.address
        for c in changes
        if isinstance(c, AlterColumn) and {"type", "collation"} & set(c.changed())
    }
    if not dropped and not retyped and not ctx.rebuilt:
        return []
    touched = {
        c.address
        for c in changes
        if isinstance(c, AddConstraint | DropConstraint) and isinstance(c.constraint, ForeignKey)
    }
    out: list[Change] = []
    for key, t in ctx.live.tables.items():
        want = ctx.desired.tables.get(key)
        if want is None or key in ctx.rebuilt:
            continue  # a dropped or rebuilt table's foreign keys are dropped with it already
        for fk in t.foreign_keys:
            address = t.constraint_address(fk.name)
            ends = {t.column_address(col) for col in fk.columns} | {
                Address.of("pg", "column", fk.ref_schema, fk.ref_table, col)
                for col in fk.ref_columns
            }
            leans = ctx.ref_key(fk, ctx.live) in dropped or ends & retyped
            leans = leans or (fk.ref_schema, fk.ref_table) in ctx.rebuilt
            if address in touched or not leans:
                continue
            new = next((k for k in want.foreign_keys if k.name == fk.name), None)
            if new is None:
                continue
            # around rows carried into a rebuilt table: dropped before, added after them
            rebuilt = (fk.ref_schema, fk.ref_table) in ctx.rebuilt
            rows = carried_rows(ctx) if rebuilt else frozenset()
            out.append(DropConstraint(t.schema, t.name, fk, ctx.ref_key(fk, ctx.live), deps=rows))
            ref = ctx.ref_key(new, ctx.desired)
            out.append(AddConstraint(t.schema, t.name, new, ref, deps=rows))
    return out
