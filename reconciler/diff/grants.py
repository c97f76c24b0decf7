"""Privileges: for every (object, role) the desired state declares, GRANT what is missing and
REVOKE what is extra. Roles it does not name for an object are not touched there, unless the
object's schema says `privileges: exact` (its YAML lists every grant: other roles lose theirs).
What an object the plan drops held goes with it, and comes back with it on rollback."""

from __future__ import annotations

from dataclasses import replace

from reconciler.diff.context import DiffContext
from reconciler.model.address import Address
from reconciler.model.pg_objects import Grant
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Action, Change
from reconciler.ops.pg_column_alter import AlterColumn
from reconciler.ops.pg_function import CreateFunction, DropFunction
from reconciler.ops.pg_grant import ChangeGrant, GrantsGoWith
from reconciler.ops.pg_table import CreateTable
from reconciler.ops.sqltext import identity_sequence_address, owned_sequence_address

_RELATIONS = frozenset({"table", "view", "materialized_view", "sequence"})


def compare_grants(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    """(A routine the plan drops, or drops and creates again, carries its grants itself:
    ops/pg_function.py.)"""
    gone = {c.address.parts[2:] for c in changes if isinstance(c, DropFunction)}
    routines = gone & {c.address.parts[2:] for c in changes if isinstance(c, CreateFunction)}
    dropped = {
        _dropped_key(c.address)
        for c in changes
        if c.action is Action.DROP and not isinstance(c, DropFunction)
    }
    for key in [k for k in dropped if k[0] == "relation" and tuple(k[1:]) in ctx.live.tables]:
        t = ctx.live.tables[key[1:]]
        for col in t.columns:  # its serial and identity columns' sequences go too
            seqs = owned_sequence_address(col) | identity_sequence_address(t.schema, t.name, col)
            dropped |= {_dropped_key(a) for a in seqs}
    created = {_dropped_key(c.address) for c in changes if c.action is Action.CREATE}
    created |= {  # and come with a table created (again)
        _dropped_key(a)
        for c in changes
        if isinstance(c, CreateTable)
        for a in c.provides()
        if a.kind == "sequence"
    }
    for c in changes:  # a serial column's sequence that its column stops owning goes too
        if isinstance(c, AlterColumn) and c.old.sequence and c.old.sequence != c.new.sequence:
            gone = {
                _dropped_key(a)
                for a in owned_sequence_address(c.old)
                if tuple(a.parts[2:]) not in ctx.moved_sequences  # kept, for another owner
            }
            made = identity_sequence_address(c.schema, c.table, c.new)
            dropped |= gone
            created |= {_dropped_key(a) for a in made}  # an identity's, perhaps of its name
    remade = dropped & created  # dropped and created again (a view rebuilt, a new signature)
    out: list[Change] = []
    for key, g in ctx.desired.grants.items():
        if g.on == "function" and g.object_address.parts[2:] in routines:
            continue
        held = ctx.live.grants.get(key)
        again = bool(_on(g) & remade)
        if held is None or again:  # what a new one holds, or what one holds unnamed
            held = replace(g, privileges=_default(g, again or not _exists(ctx, g)), grantable=())
        if (held.privileges, held.grantable) != (g.privileges, g.grantable):
            out.append(ChangeGrant(held, g))
    exact = {name for name, s in ctx.desired.schemas.items() if s.privileges == "exact"}
    for key, held in ctx.live.grants.items():
        if held.on == "function" and held.object_address.parts[2:] in gone:
            continue
        if _on(held) & dropped:
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


def _on(g: Grant) -> set[tuple[str, ...]]:
    """The keys of the objects a grant goes with: its object's, and a column's table's or
    view's too."""
    keys = {_dropped_key(g.object_address)}
    if g.on == "column":
        keys.add(("relation", g.schema, g.name))
    return keys


def _dropped_key(a: Address) -> tuple[str, ...]:
    """An object's address with its relation kind folded (a view's grant says `table`)."""
    kind = a.parts[1] if len(a.parts) > 1 else ""
    if kind in _RELATIONS:
        return ("relation", *a.parts[2:])
    return ("function", *a.parts[2:]) if kind == "procedure" else tuple(a.parts[1:])


def _exists(ctx: DiffContext, g: Grant) -> bool:
    if g.on != "function":
        return True  # only a function's default matters (_default)
    return (g.schema, *g.routine) in ctx.live.functions


def _default(g: Grant, new: bool) -> tuple[str, ...]:
    """What a role holds on an object the plan creates (`new`), or on one it was never
    granted anything on: nothing, except PUBLIC's EXECUTE on a function the plan creates
    (Postgres grants it at creation)."""
    return ("execute",) if new and g.on == "function" and g.role == "public" else ()
