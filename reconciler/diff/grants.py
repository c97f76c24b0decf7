"""Privileges: for every (object, role) the desired state declares, GRANT what is missing and
REVOKE what is extra. Roles it does not name for an object are not touched there, unless the
object's schema says `privileges: exact` (its YAML lists every grant: other roles lose theirs).
What an object the plan drops held goes with it, and comes back with it on rollback."""

from __future__ import annotations

from dataclasses import replace

from reconciler.diff.context import DiffContext
from reconciler.diff.default_grants import default_grants_after, unnamed_default_grants
from reconciler.model.address import Address
from reconciler.model.pg import Column
from reconciler.model.pg_grants import Grant, created_grants
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Action, Change
from reconciler.ops.pg.column import DropColumn
from reconciler.ops.pg.column_alter import AlterColumn
from reconciler.ops.pg.function import CreateFunction, DropFunction
from reconciler.ops.pg.grant import ChangeGrant, GrantsGoWith
from reconciler.ops.pg.table import CreateTable
from reconciler.sql.render import identity_sequence_address, owned_sequence_address

_RELATIONS = frozenset({"table", "view", "materialized_view", "sequence"})
_TYPES = frozenset({"type", "enum", "domain", "composite_type"})


def compare_grants(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    """(A routine the plan drops, or drops and creates again, carries its grants itself:
    ops/pg/function.py.)"""
    gone = {c.address.parts[2:] for c in changes if isinstance(c, DropFunction)}
    routines = gone & {c.address.parts[2:] for c in changes if isinstance(c, CreateFunction)}
    dropped = {
        _dropped_key(c.address)
        for c in changes
        if c.action is Action.DROP and not isinstance(c, DropFunction)
    }
    owners: dict[tuple[str, ...], Address] = {}  # a sequence dropped with its table or column
    for key in [k for k in dropped if k[0] == "relation" and tuple(k[1:]) in ctx.live.tables]:
        t = ctx.live.tables[key[1:]]
        for col in t.columns:  # its columns' own sequences go too
            owners |= {_dropped_key(a): t.address for a in _sequences_of(t.schema, t.name, col)}
    for c in changes:  # so do a dropped column's
        if isinstance(c, DropColumn):
            seqs = _sequences_of(c.schema, c.table, c.column)
            owners |= {_dropped_key(a): c.address for a in seqs if _dropped_key(a) not in owners}
    dropped |= set(owners)
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
            dropped |= {
                _dropped_key(a)
                for a in owned_sequence_address(c.old)
                if tuple(a.parts[2:]) not in ctx.moved_sequences  # kept, for another owner
            }
            identity = identity_sequence_address(c.schema, c.table, c.new)
            created |= {_dropped_key(a) for a in identity}  # an identity's, perhaps of its name
    remade = dropped & created  # dropped and created again (a view rebuilt, a new signature)
    made = _Made(ctx)
    out: list[Change] = []
    for key, g in ctx.desired.grants.items():
        if g.on == "function" and g.object_address.parts[2:] in routines:
            continue
        held = ctx.live.grants.get(key)
        made_now = bool(_on(g) & remade) or not made.exists(g)
        # on an object the plan makes (a column added to a table too): its drop on the way
        # back takes the privileges along
        fresh = made_now or _dropped_key(g.object_address) in created
        if made_now:
            # what a new one is given as it is created (defaults, default privileges)
            privileges, grantable = made.given(g).get(g.role, ((), ()))
            held = replace(g, privileges=privileges, grantable=grantable)
        elif held is None:  # what one holds unnamed
            held = replace(g, privileges=(), grantable=())
        if (held.privileges, held.grantable) != (g.privileges, g.grantable):
            out.append(ChangeGrant(held, g, fresh=fresh))
    exact = {name for name, s in ctx.desired.schemas.items() if s.privileges == "exact"}
    for probe in _declared_objects(ctx.desired):
        if (probe.name if probe.on == "schema" else probe.schema) not in exact:
            continue
        if _on(probe) & remade or not made.exists(probe):
            for role, (privileges, grantable) in made.given(probe).items():
                given = replace(probe, role=role, privileges=privileges, grantable=grantable)
                if given.key not in ctx.desired.grants:  # given at creation, not listed
                    none = replace(given, privileges=(), grantable=())
                    out.append(ChangeGrant(given, none, fresh=True))
    held_on: dict[tuple[str, ...], list[Grant]] = {}
    for held in ctx.live.grants.values():
        if held.on != "column":  # a column's go with it or its table as they are (below)
            held_on.setdefault(_dropped_key(held.object_address), []).append(held)
    carried: set[tuple[str, ...]] = set()
    for key in sorted(dropped):
        probe = made.probe(key)
        if probe is None:
            continue
        # what the object may be given when a rollback makes it again: under today's default
        # privileges, or the plan's (a down file runs them back before or after)
        fresh = made.given(probe, live=True)
        for role, (privileges, grantable) in made.given(probe).items():
            p, g = fresh.get(role, ((), ()))
            fresh[role] = (tuple(sorted({*p, *privileges})), tuple(sorted({*g, *grantable})))
        for role, (privileges, grantable) in fresh.items():
            if replace(probe, role=role).key not in ctx.live.grants:  # held nothing
                given = replace(probe, role=role)
                out.append(GrantsGoWith(given, privileges, grantable, owners.get(key)))
        for held in held_on.get(key, ()):
            privileges, grantable = fresh.get(held.role, ((), ()))
            out.append(GrantsGoWith(held, privileges, grantable, owners.get(key)))
            carried.add(held.key)
    for key, held in ctx.live.grants.items():
        if held.on == "function" and held.object_address.parts[2:] in gone:
            continue
        if _on(held) & dropped:
            if held.on == "column" or held.key not in carried:
                out.append(GrantsGoWith(held))
        elif key in ctx.desired.grants:
            continue
        elif (held.name if held.on == "schema" else held.schema) in exact:
            # a role the YAML does not name, in a schema whose YAML lists every grant
            out.append(ChangeGrant(held, replace(held, privileges=(), grantable=())))
    return out


class _Made:
    """Which objects exist live, and what an object is given as it is created: Postgres'
    defaults (PUBLIC's EXECUTE on a routine, USAGE on a type) and the default privileges of
    the role creating it (the one the live state was read as). Objects the plan creates are
    created once its default privileges have changed; schemas before (ChangeDefaultGrant),
    and whatever a rollback creates again once they are back."""

    def __init__(self, ctx: DiffContext) -> None:
        self.ctx = ctx
        self.after = list(default_grants_after(ctx).values())
        live = ctx.live
        self.relations = {*live.tables, *live.views}
        self.sequences = set(live.sequences)
        for t in live.tables.values():
            for col in t.columns:
                owned = _sequences_of(t.schema, t.name, col)
                self.sequences |= {tuple(a.parts[2:]) for a in owned}
        self.routines = {(s, f"{n}({types})") for s, n, types in live.functions}
        self.types = {*live.enums, *live.domains, *live.composites}

    def exists(self, g: Grant) -> bool:
        key = (g.schema, g.name)
        if g.on == "schema":
            return g.name in self.ctx.live.schemas
        if g.on in ("table", "column"):
            return key in self.relations
        if g.on == "sequence":
            return key in self.sequences or key in self.relations
        if g.on == "function":
            return key in self.routines
        return key in self.types

    def given(self, g: Grant, *, live: bool = False) -> dict[str, tuple[tuple[str, ...], ...]]:
        if g.on == "column":
            return {}  # a column's privileges are never given at creation
        defaults = self.ctx.live.default_grants.values() if live or g.on == "schema" else self.after
        schema = g.name if g.on == "schema" else g.schema
        return created_grants(defaults, self.ctx.live.creator, g.on, schema)

    def probe(self, key: tuple[str, ...]) -> Grant | None:
        """A Grant (no role yet) on the live object a dropped-object key names (not a
        routine's: its drop carries what roles held on it, ops/pg/function.py)."""
        kind, parts = key[0], key[1:]
        if kind == "relation" and tuple(parts) in self.relations:
            return Grant("table", parts[0], parts[1], None, "")
        if kind == "relation" and tuple(parts) in self.sequences:
            return Grant("sequence", parts[0], parts[1], None, "")
        if kind == "type" and tuple(parts) in self.types:
            return Grant("type", parts[0], parts[1], None, "")
        if kind == "schema" and parts[0] in self.ctx.live.schemas:
            return Grant("schema", "", parts[0], None, "")
        return None


def _sequences_of(schema: str, table: str, col: Column) -> frozenset[Address]:
    """A column's own sequence: a serial's (owned) or an identity's (by the name a CREATE
    gives it)."""
    return owned_sequence_address(col) | identity_sequence_address(schema, table, col)


def _declared_objects(desired: PgSnapshot) -> list[Grant]:
    """A Grant (no role yet) on every object the desired state declares that can be given
    privileges as it is created."""
    out = [Grant("schema", "", name, None, "") for name in desired.schemas]
    for (schema, name), t in desired.tables.items():
        out.append(Grant("table", schema, name, None, ""))
        for col in t.columns:
            seqs = _sequences_of(schema, name, col)
            out += [Grant("sequence", *a.parts[2:4], None, "") for a in seqs]
    out += [Grant("table", s, n, None, "") for s, n in desired.views]
    out += [Grant("sequence", s, n, None, "") for s, n in desired.sequences]
    out += [Grant("function", s, f"{n}({t})", None, "") for s, n, t in desired.functions]
    types = (*desired.enums, *desired.domains, *desired.composites)
    return out + [Grant("type", s, n, None, "") for s, n in types]


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
    return out + unnamed_default_grants(desired, live)


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
    if kind in _TYPES:
        return ("type", *a.parts[2:])
    return ("function", *a.parts[2:]) if kind == "procedure" else tuple(a.parts[1:])
