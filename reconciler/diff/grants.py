"""Privileges: for every (object, role) the desired state declares, GRANT what is missing and
REVOKE what is extra. Roles it does not name for an object are not touched there, unless the
object's schema says `privileges: exact` (its YAML lists every grant: other roles lose theirs).
What an object the plan drops held goes with it, and comes back with it on rollback."""

from __future__ import annotations

from dataclasses import replace

from reconciler.diff.context import DiffContext
from reconciler.model.address import Address
from reconciler.model.pg_objects import CREATED_PUBLIC, Grant
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Action, Change
from reconciler.ops.pg_grant import ChangeGrant, GrantsGoWith
from reconciler.ops.sqltext import owned_sequence_address

_RELATIONS = frozenset({"table", "view", "materialized_view", "sequence"})
_TYPES = frozenset({"type", "enum", "domain", "composite_type"})


def compare_grants(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    dropped = {_dropped_key(c.address) for c in changes if c.action is Action.DROP}
    for key in [k for k in dropped if k[0] == "relation" and tuple(k[1:]) in ctx.live.tables]:
        for col in ctx.live.tables[key[1:]].columns:  # its serial columns' sequences go too
            dropped |= {_dropped_key(a) for a in owned_sequence_address(col)}
    created = {_dropped_key(c.address) for c in changes if c.action is Action.CREATE}
    remade = dropped & created  # dropped and created again (a view rebuilt, a new signature)
    out: list[Change] = []
    for key, g in ctx.desired.grants.items():
        held = ctx.live.grants.get(key)
        again = _dropped_key(g.object_address) in remade
        if held is None or again:  # what a new one holds, or what one holds unnamed
            held = replace(g, privileges=_default(g, again or not _exists(ctx, g)), grantable=())
        if (held.privileges, held.grantable) != (g.privileges, g.grantable):
            out.append(ChangeGrant(held, g))
    for key in sorted(k for k in dropped if k[0] in ("function", "type")):
        if key[0] == "function":
            schema, name, types = key[1:]
            public = Grant("function", schema, f"{name}({types})", None, "public")
        else:
            public = Grant("type", key[1], key[2], None, "public")
        if _exists(ctx, public) and public.key not in ctx.live.grants:
            # PUBLIC had no EXECUTE (USAGE): what a rollback makes again must not give it
            out.append(GrantsGoWith(public, fresh=CREATED_PUBLIC[public.on]))
    exact = {name for name, s in ctx.desired.schemas.items() if s.privileges == "exact"}
    for key, held in ctx.live.grants.items():
        if _dropped_key(held.object_address) in dropped:
            out.append(GrantsGoWith(held))
        elif key in ctx.desired.grants:
            continue
        elif (held.name if held.on == "schema" else held.schema) in exact:
            # a role the YAML does not name, in a schema whose YAML lists every grant
            out.append(ChangeGrant(held, replace(held, privileges=(), grantable=())))
    return out


def unnamed(desired: PgSnapshot, live: PgSnapshot) -> list[dict[str, str]]:
    """Findings: what roles the YAML does not name hold on the objects it declares, in a
    schema that leaves them alone (`privileges: named`): reported, never revoked."""
    exact = {name for name, s in desired.schemas.items() if s.privileges == "exact"}
    declared = {("schema", name) for name in desired.schemas}
    for (schema, name), t in desired.tables.items():
        declared.add(("relation", schema, name))
        for col in t.columns:
            declared |= {_dropped_key(a) for a in owned_sequence_address(col)}
    declared |= {("relation", *key) for key in (*desired.views, *desired.sequences)}
    declared |= {("function", *key) for key in desired.functions}
    declared |= {("type", *key) for key in (*desired.enums, *desired.domains, *desired.composites)}
    out = []
    for key, held in sorted(live.grants.items()):
        target = held.object_address
        if target.kind == "column":
            target = Address.of("pg", "table", *target.parts[2:4])
        schema = held.name if held.on == "schema" else held.schema
        if key in desired.grants or schema in exact or _dropped_key(target) not in declared:
            continue
        if (held.on, held.name, held.role) == ("schema", "public", "public"):
            continue  # what initdb gives everyone on the public schema: not news
        what = ", ".join(p.upper() for p in held.privileges)
        on = f"{held.on} {held.name if held.on == 'schema' else f'{schema}.{held.name}'}"
        column = f" ({held.column})" if held.column else ""
        out.append(
            {
                "kind": "unnamed_grant",
                "address": str(held.address),
                "message": f"role {held.role} holds {what} on {on}{column}, which the YAML "
                f"does not name: left as it is (`privileges: exact` on schema {schema} "
                "revokes what the YAML does not list)",
            }
        )
    return out


def _dropped_key(a: Address) -> tuple[str, ...]:
    """An object's address with its relation kind folded (a view's grant says `table`)."""
    kind = a.parts[1] if len(a.parts) > 1 else ""
    if kind in _RELATIONS:
        return ("relation", *a.parts[2:])
    if kind in _TYPES:
        return ("type", *a.parts[2:])
    return ("function", *a.parts[2:]) if kind == "procedure" else tuple(a.parts[1:])


def _exists(ctx: DiffContext, g: Grant) -> bool:
    if g.on == "type":
        live = ctx.live
        return any((g.schema, g.name) in d for d in (live.enums, live.domains, live.composites))
    if g.on != "function":
        return True  # only a routine's and a type's default matter (_default)
    name, _, types = g.name.partition("(")
    return (g.schema, name, types.removesuffix(")")) in ctx.live.functions


def _default(g: Grant, new: bool) -> tuple[str, ...]:
    """What a role holds on an object the plan creates (`new`), or on one it was never
    granted anything on: nothing, except PUBLIC's EXECUTE on a function and USAGE on a type
    the plan creates (Postgres grants them at creation)."""
    return CREATED_PUBLIC.get(g.on, ()) if new and g.role == "public" else ()
