"""Owners kept across a drop and a create.

The model has no `owner:` yet: an object the plan creates is owned by the role applying it.
But an object the plan drops to create it again (a view rebuilt around a retyped column, a
function of a new signature or rebuilt under a dependency, a table rebuilt in a new shape)
must come back owned as it was: a SECURITY DEFINER function runs with its owner's rights, a
view reads its tables with its owner's, and an owner passes row-level security. So each such
create carries the live owner (ops write ALTER … OWNER TO after the create), and a drop's way
back — the live object, which carries its owner from introspection — does the same.
"""

from __future__ import annotations

import dataclasses

from reconciler.diff.context import DiffContext
from reconciler.model.address import Address
from reconciler.ops.base import Action, Change
from reconciler.ops.pg.function import CreateFunction
from reconciler.ops.pg.table import CreateTable
from reconciler.ops.pg.view import CreateView


def keep_owners(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    owners: dict[Address, str] = {}
    for objects in (ctx.live.tables, ctx.live.views, ctx.live.functions):
        owners |= {o.address: o.owner for o in objects.values() if o.owner is not None}
    if not owners:
        return changes
    out = []
    for c in changes:
        owner = owners.get(c.address) if c.action is Action.CREATE else None
        if owner is not None and isinstance(c, CreateTable):
            c = dataclasses.replace(c, table=dataclasses.replace(c.table, owner=owner))
        elif owner is not None and isinstance(c, CreateView):
            c = dataclasses.replace(c, view=dataclasses.replace(c.view, owner=owner))
        elif owner is not None and isinstance(c, CreateFunction):
            c = dataclasses.replace(c, function=dataclasses.replace(c.function, owner=owner))
        out.append(c)
    return out
