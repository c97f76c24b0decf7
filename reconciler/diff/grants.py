"""Privileges: for every (object, role) the desired state declares, GRANT what is missing and
REVOKE what is extra. Roles it does not name for an object are never touched there."""

from __future__ import annotations

from dataclasses import replace

from reconciler.diff.context import DiffContext
from reconciler.model.pg_objects import Grant
from reconciler.ops.base import Change
from reconciler.ops.pg_grant import ChangeGrant


def compare_grants(ctx: DiffContext) -> list[Change]:
    out: list[Change] = []
    for key, g in ctx.desired.grants.items():
        held = ctx.live.grants.get(key) or replace(g, privileges=_default(ctx, g), grantable=())
        if (held.privileges, held.grantable) != (g.privileges, g.grantable):
            out.append(ChangeGrant(held, g))
    return out


def _default(ctx: DiffContext, g: Grant) -> tuple[str, ...]:
    """What a role holds on an object it was never granted anything on: nothing, except
    PUBLIC's EXECUTE on a function the plan creates (Postgres grants it at creation)."""
    if g.on != "function" or g.role != "public":
        return ()
    name, _, types = g.name.partition("(")
    exists = (g.schema, name, types.removesuffix(")")) in ctx.live.functions
    return () if exists else ("execute",)
