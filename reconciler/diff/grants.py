"""Privileges: for every (object, role) the desired state declares, GRANT what is missing and
REVOKE what is extra. Roles it does not name for an object are never touched there."""

from __future__ import annotations

from dataclasses import replace

from reconciler.diff.context import DiffContext
from reconciler.model.pg_objects import Grant
from reconciler.ops.base import Change
from reconciler.ops.pg_function import CreateFunction, DropFunction
from reconciler.ops.pg_grant import ChangeGrant


def compare_grants(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    """(A routine the plan drops and creates again is given its grants by its creation.)"""
    dropped = {c.address.parts[2:] for c in changes if isinstance(c, DropFunction)}
    created = {c.address.parts[2:] for c in changes if isinstance(c, CreateFunction)}
    recreated = dropped & created  # (schema, name, types), a function's or a procedure's
    out: list[Change] = []
    for key, g in ctx.desired.grants.items():
        if g.on == "function" and g.object_address.parts[2:] in recreated:
            continue
        held = ctx.live.grants.get(key) or replace(g, privileges=_default(ctx, g), grantable=())
        if (held.privileges, held.grantable) != (g.privileges, g.grantable):
            out.append(ChangeGrant(held, g))
    return out


def _default(ctx: DiffContext, g: Grant) -> tuple[str, ...]:
    """What a role holds on an object it was never granted anything on: nothing, except
    PUBLIC's EXECUTE on a function the plan creates (Postgres grants it at creation)."""
    if g.on != "function" or g.role != "public":
        return ()
    exists = (g.schema, *g.routine) in ctx.live.functions
    return () if exists else ("execute",)
