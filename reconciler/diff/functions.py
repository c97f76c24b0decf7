"""Functions and procedures: created, replaced in place (CREATE OR REPLACE) when the signature
allows it, else dropped and created, and dropped.

Quoted bodies are checked when a function runs (see ops/pg/function.py), so such a function
only needs its schema, the extensions and the types its signature may use (a table's or
view's row type among them). An SQL-standard body is bound at creation to what it names: it
needs those too, as pg_depend records them (DiffContext.function_deps). Everything that may
call a function (defaults, checks, generated columns, indexes, views) depends on all of the
plan's functions but those that need that very table or view (DiffContext.callable_from):
created after them, dropped before them.

A routine bound to what the plan drops (a routine dropped to be created again, a table, a
view, a column) or retypes is dropped before and created again after (rebuild_dependents),
as Postgres refuses those changes under it; so are the checks, indexes, views, column
defaults, triggers and policies (diff/triggers.py) bound to a routine dropped to be created
again. A routine dropped and created
again gets back what roles held on it; a dropped one gets it back on rollback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from reconciler.diff.context import DiffContext
from reconciler.diff.default_grants import default_grants_after
from reconciler.diff.kinds import Kind, walk
from reconciler.diff.views import reshaped_columns, routine_users
from reconciler.model.address import Address
from reconciler.model.pg_grants import DefaultGrant, Grant, created_grants
from reconciler.model.pg_objects import Function
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Action, Change
from reconciler.ops.pg.constraint import AddConstraint, DropConstraint
from reconciler.ops.pg.function import (
    CreateFunction,
    DropFunction,
    ReplaceFunction,
    SetDefault,
    UnsetDefault,
)
from reconciler.ops.pg.index import CreateIndex, DropIndex
from reconciler.ops.pg.objects import SetComment


def compare_functions(ctx: DiffContext) -> list[Change]:
    def alter(old: Function, new: Function) -> list[Change] | None:
        if not (old.signature_matches(new) and old.kind == new.kind):
            return None
        return [ReplaceFunction(old, new, _deps(ctx, new))]

    changes = walk(
        ctx.desired.functions,
        ctx.live.functions,
        Kind(
            create=lambda f: [CreateFunction(f, _deps(ctx, f))],
            comments=True,
            alter=alter,
            replace=lambda old, new: _recreate(ctx, old, new),
            drop=lambda f: [_drop(ctx, f)],
        ),
    )
    return _paired(changes)


def _paired(changes: list[Change]) -> list[Change]:
    """A routine whose only signature the plan replaces by another (an argument added, say):
    the old one goes first, and what calls it by name is made again after the new one."""
    made: dict[tuple[str, str], list[CreateFunction]] = {}
    gone: dict[tuple[str, str], list[DropFunction]] = {}
    for c in changes:
        if isinstance(c, CreateFunction):
            made.setdefault((c.function.schema, c.function.name), []).append(c)
        elif isinstance(c, DropFunction):
            gone.setdefault((c.function.schema, c.function.name), []).append(c)
    pairs = {}
    for name, drops in gone.items():
        creates = made.get(name, [])
        if len(drops) == 1 and len(creates) == 1 and drops[0].address != creates[0].address:
            new, old = creates[0], drops[0]
            pairs[id(new)] = replace(new, replaces=old.address)
            pairs[id(old)] = replace(old, replaced_by=new.address)
    return [pairs.get(id(c), c) for c in changes]


def rebuild_dependents(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    """`changes`, with every live routine bound to something the plan drops or retypes
    (and every routine bound to those, and so on) dropped and created again instead of
    replaced in place or left alone."""
    gone = {c.address for c in changes if c.action is Action.DROP}
    gone |= {Address.of("pg", "column", *col) for col in reshaped_columns(changes)}
    handled = {c.address for c in changes if isinstance(c, DropFunction)}
    rebuild: dict[Address, Function] = {}
    more = True
    while more:
        more = False
        for key, f in ctx.live.functions.items():
            if f.address in handled or f.address in rebuild or key not in ctx.desired.functions:
                continue
            if any(a in gone for parts in f.uses or () for a in ctx.use_addresses(parts)):
                rebuild[f.address] = f
                gone.add(f.address)
                more = True
    out = [
        c
        for c in changes
        if not (c.address in rebuild and isinstance(c, ReplaceFunction | SetComment))
    ]
    for address in sorted(rebuild):
        old = rebuild[address]
        out += _recreate(ctx, old, ctx.desired.functions[(old.schema, old.name, old.types)])
    return _in_transaction(ctx, out + _rebuild_users(ctx, out))


def _in_transaction(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    """An index calling a routine the plan drops is dropped inside the transaction, before
    the routine, not concurrently after the commit (the routine's drop would fail first)."""
    dropped = {c.address for c in changes if isinstance(c, DropFunction)}
    users = {
        Address.of("pg", *parts)
        for f in ctx.live.functions.values()
        if f.address in dropped
        for parts in f.used_by
    }
    return [
        replace(c, online=False) if isinstance(c, DropIndex) and c.address in users else c
        for c in changes
    ]


def _rebuild_users(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    """Checks, indexes and column defaults bound to a routine dropped to be created again,
    dropped before it and made again after it, in their desired form, inside the transaction
    (the drop must not wait for after the commit). Views are rebuilt by diff/views.py."""
    planned = {c.address for c in changes if c.action is Action.DROP}
    out: list[Change] = []
    for kind, schema, *rest in sorted(routine_users(ctx, changes)):
        if kind == "constraint":
            table, name = rest
            old_t = ctx.live.tables.get((schema, table))
            new_t = ctx.desired.tables.get((schema, table))
            if old_t is None or new_t is None or old_t.constraint_address(name) in planned:
                continue
            old_k = next((k for k in old_t.checks if k.name == name), None)
            new_k = next((k for k in new_t.checks if k.name == name), None)
            if old_k is None or new_k is None:
                continue
            for k, make in ((old_k, DropConstraint), (new_k, AddConstraint)):
                deps = ctx.expression_deps(schema, table, k.expression)
                out.append(make(schema, table, k, deps=deps | ctx.callable_from(schema, table)))
        elif kind == "default":
            out += _step_aside_default(ctx, changes, schema, *rest)
        elif kind == "index":
            old_ix = ctx.live.indexes.get((schema, rest[0]))
            new_ix = ctx.desired.indexes.get((schema, rest[0]))
            if old_ix is None or new_ix is None or old_ix.address in planned:
                continue
            for ix, make in ((old_ix, DropIndex), (new_ix, CreateIndex)):
                exprs = [e.expression for e in ix.elements]
                deps = ctx.expression_deps(schema, ix.table, ix.where, *exprs)
                out.append(make(ix, deps | ctx.callable_from(schema, ix.table)))
    return out


def function_grants(snap: PgSnapshot, f: Function, *, live: bool = False) -> tuple[Grant, ...]:
    """What roles hold on the routine, by the grants of `snap`. A live routine's are read
    from its effective ACL (its default included), so PUBLIC missing there holds nothing:
    that is said too, as creation would give it EXECUTE."""
    name = f"{f.name}({f.types})"
    out = tuple(
        g
        for g in snap.grants.values()
        if g.on == "function" and g.schema == f.schema and g.name == name
    )
    if live and not any(g.role == "public" for g in out):
        out += (Grant(on="function", schema=f.schema, name=name, column=None, role="public"),)
    return out


def _recreate(ctx: DiffContext, old: Function, new: Function) -> list[Change]:
    """Drop and create: the new one gets what the desired state grants on it, and what the
    roles it does not name held on the old one (they are left alone, unless its schema says
    `privileges: exact`); a role given something at its creation (default privileges) that
    is in neither is left holding nothing."""
    grants = function_grants(ctx.desired, new)
    named = {g.role for g in grants}
    schema = ctx.desired.schemas.get(new.schema)
    if schema is None or schema.privileges != "exact":
        live = function_grants(ctx.live, old, live=True)
        grants += tuple(g for g in live if g.role not in named)
    given = _given(new, ctx.live.creator, default_grants_after(ctx).values())
    return [_drop(ctx, old), CreateFunction(new, _deps(ctx, new), grants, given)]


def _drop(ctx: DiffContext, f: Function) -> DropFunction:
    """Given back on rollback under the default privileges found, or the plan's (a down file
    runs them back before or after it makes the routine again)."""
    now = _given(f, ctx.live.creator, ctx.live.default_grants.values())
    then = _given(f, ctx.live.creator, default_grants_after(ctx).values())
    given, unsure = _either(now, then)
    grants = function_grants(ctx.live, f, live=True)
    return DropFunction(f, _deps(ctx, f), grants, given, unsure)


def _given(f: Function, creator: str, defaults: Iterable[DefaultGrant]) -> tuple[Grant, ...]:
    """What roles are given on the routine as `creator` makes it under `defaults`."""
    name = f"{f.name}({f.types})"
    return tuple(
        Grant("function", f.schema, name, None, role, privileges, grantable)
        for role, (privileges, grantable) in created_grants(
            defaults, creator, "function", f.schema
        ).items()
    )


def _either(a: tuple[Grant, ...], b: tuple[Grant, ...]) -> tuple[tuple[Grant, ...], ...]:
    """What `a` or `b` gives each role, and of that what only one of them gives."""
    given, unsure = [], []
    left, right = {g.role: g for g in a}, {g.role: g for g in b}
    for role in sorted({*left, *right}):
        x, y = left.get(role), right.get(role)
        g = x or y
        assert g is not None
        p1, p2 = set(x.privileges if x else ()), set(y.privileges if y else ())
        o1, o2 = set(x.grantable if x else ()), set(y.grantable if y else ())
        given.append(replace(g, privileges=_sorted(p1 | p2), grantable=_sorted(o1 | o2)))
        if (p1, o1) != (p2, o2):
            unsure.append(replace(g, privileges=_sorted(p1 ^ p2), grantable=_sorted(o1 ^ o2)))
    return tuple(given), tuple(unsure)


def _sorted(names: set[str]) -> tuple[str, ...]:
    return tuple(sorted(names))


def _step_aside_default(
    ctx: DiffContext, changes: list[Change], schema: str, table: str, column: str
) -> list[Change]:
    """A column default calling the routine: dropped before it, set after it, unless the
    plan changes that column or table anyway."""
    old_t, new_t = ctx.live.tables.get((schema, table)), ctx.desired.tables.get((schema, table))
    if old_t is None or new_t is None:
        return []
    dropped = {c.address for c in changes if c.action is Action.DROP}
    touched = {c.address for c in changes}
    aside = Address.of("pg", "default", schema, table, column)  # by an earlier pass
    if old_t.address in dropped or {old_t.column_address(column), aside} & touched:
        return []
    old_c, new_c = old_t.column(column), new_t.column(column)
    if old_c is None or new_c is None or old_c.default is None or new_c.default is None:
        return []
    deps = ctx.callable_from(schema, table) | {old_t.column_address(column)}
    return [
        UnsetDefault(schema, table, column, old_c.default, deps),
        SetDefault(schema, table, column, new_c.default, deps),
    ]


def _deps(ctx: DiffContext, f: Function) -> frozenset[Address]:
    return ctx.function_deps(f)
