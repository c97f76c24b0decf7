"""Foreign keys that must step aside while the key they reference is replaced.

Postgres refuses to drop a primary key, unique constraint or unique index that a foreign key
references. When a plan replaces such a key (drop + create of one address), every foreign key
leaning on it that the plan does not already touch is dropped before and re-added after.
"""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.model.pg import ForeignKey
from reconciler.ops.base import Action, Change
from reconciler.ops.pg_constraint import AddConstraint, DropConstraint


def readd_dependent_foreign_keys(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    drops = {c.address for c in changes if c.action is Action.DROP}
    replaced = drops & {c.address for c in changes if c.action is Action.CREATE}
    if not replaced:
        return []
    touched = {
        c.address
        for c in changes
        if isinstance(c, AddConstraint | DropConstraint) and isinstance(c.constraint, ForeignKey)
    }
    out: list[Change] = []
    for key, t in ctx.live.tables.items():
        want = ctx.desired.tables.get(key)
        if want is None:
            continue  # a dropped table's foreign keys are dropped with it already
        for fk in t.foreign_keys:
            address = t.constraint_address(fk.name)
            if address in touched or ctx.ref_key(fk, ctx.live) not in replaced:
                continue
            new = next((k for k in want.foreign_keys if k.name == fk.name), None)
            if new is None:
                continue
            out.append(DropConstraint(t.schema, t.name, fk, ctx.ref_key(fk, ctx.live)))
            out.append(AddConstraint(t.schema, t.name, new, ctx.ref_key(new, ctx.desired)))
    return out
