"""Privileges: for every (object, role) the desired state declares, GRANT what is missing and
REVOKE what is extra. Roles it does not name for an object are not touched there, unless the
object's schema says `privileges: exact` (its YAML lists every grant: other roles lose theirs).
What an object the plan drops held goes with it, and comes back with it on rollback."""

from __future__ import annotations

from dataclasses import replace

from reconciler.diff.context import DiffContext
from reconciler.model.address import Address
from reconciler.model.pg_objects import Grant
from reconciler.ops.base import Action, Change
from reconciler.ops.pg_grant import ChangeGrant, GrantsGoWith

_RELATIONS = frozenset({"table", "view", "materialized_view", "sequence"})


def compare_grants(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    out: list[Change] = []
    for key, g in ctx.desired.grants.items():
        held = ctx.live.grants.get(key) or replace(g, privileges=_default(ctx, g), grantable=())
        if (held.privileges, held.grantable) != (g.privileges, g.grantable):
            out.append(ChangeGrant(held, g))
    dropped = {_dropped_key(c.address) for c in changes if c.action is Action.DROP}
    exact = {name for name, s in ctx.desired.schemas.items() if s.privileges == "exact"}
    for key, held in ctx.live.grants.items():
        if key in ctx.desired.grants:
            continue
        if _dropped_key(held.object_address) in dropped:
            out.append(GrantsGoWith(held))
        elif (held.name if held.on == "schema" else held.schema) in exact:
            # a role the YAML does not name, in a schema whose YAML lists every grant
            out.append(ChangeGrant(held, replace(held, privileges=(), grantable=())))
    return out


def _dropped_key(a: Address) -> tuple[str, ...]:
    """An object's address with its relation kind folded (a view's grant says `table`)."""
    kind = a.parts[1] if len(a.parts) > 1 else ""
    if kind in _RELATIONS:
        return ("relation", *a.parts[2:])
    return ("function", *a.parts[2:]) if kind == "procedure" else tuple(a.parts[1:])


def _default(ctx: DiffContext, g: Grant) -> tuple[str, ...]:
    """What a role holds on an object it was never granted anything on: nothing, except
    PUBLIC's EXECUTE on a function the plan creates (Postgres grants it at creation)."""
    if g.on != "function" or g.role != "public":
        return ()
    name, _, types = g.name.partition("(")
    exists = (g.schema, name, types.removesuffix(")")) in ctx.live.functions
    return () if exists else ("execute",)
