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
from reconciler.ops.pg.column_alter import AlterColumn
from reconciler.ops.pg.constraint import AddConstraint, DropConstraint
from reconciler.ops.pg.parents import SetPartition


def readd_dependent_foreign_keys(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    dropped = {c.address for c in changes if c.action is Action.DROP}
    retyped = {
        c.address
        for c in changes
        if isinstance(c, AlterColumn) and {"type", "collation"} & set(c.changed())
    }
    # a partition moving (another bound or parent): Postgres refuses to detach it while a
    # foreign key to its parent has rows there, so such keys step aside around the move
    moving: dict[tuple[str, str], set[Address]] = {}
    for c in changes:
        if isinstance(c, SetPartition):
            for parent in (c.old_parent, c.new_parent):
                moving.setdefault(parent, set()).add(c.address)
    if not dropped and not retyped and not ctx.rebuilt and not moving:
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
            ref = (fk.ref_schema, fk.ref_table)
            leans = ctx.ref_key(fk, ctx.live) in dropped or ends & retyped
            leans = leans or ref in ctx.rebuilt or ref in moving
            if address in touched or not leans:
                continue
            new = next((k for k in want.foreign_keys if k.name == fk.name), None)
            if new is None:
                continue
            # dropped before, added after the rows carried into a rebuilt table, or the move
            around = carried_rows(ctx) if ref in ctx.rebuilt else frozenset()
            around |= frozenset(moving.get(ref, ()))
            was_key, now_key = ctx.ref_key(fk, ctx.live), ctx.ref_key(new, ctx.desired)
            out.append(DropConstraint(t.schema, t.name, fk, was_key, deps=around))
            out.append(AddConstraint(t.schema, t.name, new, now_key, deps=around))
    return out
