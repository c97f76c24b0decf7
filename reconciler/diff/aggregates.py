"""Aggregates: created, dropped, replaced (drop + create), the comment changed in place.

An aggregate is created after its schema, the routines it calls (those of the plan whose
name it gives) and the types its arguments and state name, and dropped before them; anything
that may call a routine waits for it too (DiffContext.extension_deps), so a view using one is
created after it and dropped before it. Postgres drops an aggregate only once nothing uses
it: a drop or a redefinition is refused at plan time while something the plan does not drop
first uses it (pg_depend, read with the live aggregate). An aggregate calling a routine the
plan drops to create it again is dropped before it and created after it.
"""

from __future__ import annotations

import re

from reconciler.diff.context import DiffContext
from reconciler.diff.kinds import Kind, walk
from reconciler.errors import NotSupported
from reconciler.model.address import Address
from reconciler.model.names import qualified, split_qualified
from reconciler.model.pg_aggregates import Aggregate
from reconciler.ops.base import Action, Change
from reconciler.ops.pg.aggregate import CreateAggregate, DropAggregate
from reconciler.ops.pg.function import DropFunction


def compare_aggregates(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    remade = {
        (c.function.schema, c.function.name)
        for c in changes
        if isinstance(c, DropFunction) and c.function.key in ctx.desired.functions
    }
    dropped = _dropped_by_plan(changes)

    def replace(old: Aggregate, new: Aggregate) -> list[Change]:
        _refuse_in_use(old, dropped, new.source, "redefined")
        _refuse_privileged(ctx, old, new.source, "redefined")
        return [DropAggregate(old, _deps(ctx, old)), CreateAggregate(new, _deps(ctx, new))]

    def drop(old: Aggregate) -> list[Change]:
        _refuse_in_use(old, dropped, None, "dropped")
        _refuse_privileged(ctx, old, None, "dropped")
        return [DropAggregate(old, _deps(ctx, old))]

    return walk(
        ctx.desired.aggregates,
        ctx.live.aggregates,
        Kind(
            create=lambda a: [CreateAggregate(a, _deps(ctx, a))],
            # one calling a routine the plan drops to create it again
            rebuild=lambda _, old, new: bool(remade & set(_routine_keys(old))),
            comments=True,
            replace=replace,
            drop=drop,
        ),
    )


def _refuse_privileged(ctx: DiffContext, a: Aggregate, source: str | None, verb: str) -> None:
    """An aggregate's privileges are not modelled yet (reported `unsupported`): a drop and a
    create would reset them — PUBLIC's EXECUTE back, a role's grant gone — here and in the
    rollback, silently. Refused instead, naming them."""
    said = f"{qualified(a.schema, a.name)}({a.types})"
    named = f"{qualified(a.schema, a.name)}({a.arguments})"  # as the report names it
    if {("privileges", said), ("privileges", named)} & set(ctx.live.unsupported):
        raise NotSupported(
            f"Aggregate {said} cannot be {verb}: it has privileges of its own (GRANT or "
            "REVOKE on it), which Reconciler does not manage yet and would reset.",
            detail="Redefine or drop it by hand and give the privileges back, or reset them "
            "to the defaults first.",
            source=source,
        )


def _dropped_by_plan(changes: list[Change]) -> set[str]:
    """What the plan drops, as pg_describe_object says it (spaces left out): a user of an
    aggregate among them goes first (its drop waits for nothing the aggregate needs)."""
    out = set()
    for c in changes:
        if c.action is not Action.DROP:
            continue
        kind, parts = c.address.kind, c.address.parts[2:]
        if kind in ("view", "materialized_view"):
            out.add(f"view{qualified(*parts[:2])}")
        elif kind in ("function", "procedure"):
            out.add(f"{kind}{qualified(*parts[:2])}({parts[2]})".replace(" ", ""))
        elif kind in ("table", "rule", "trigger", "policy"):
            table = f"table{qualified(*parts[:2])}"
            out.add(table if kind == "table" else f"{kind}{parts[2]}on{table}".replace(" ", ""))
            if kind == "rule":
                out.add(f"rule{parts[2]}onview{qualified(*parts[:2])}".replace(" ", ""))
    return out


def _refuse_in_use(a: Aggregate, dropped: set[str], source: str | None, verb: str) -> None:
    def goes(user: str) -> bool:
        said = user.replace(" ", "")
        return said in dropped or any(  # a part of a table the plan drops
            said.endswith(d) for d in dropped if d.startswith("table")
        )

    users = [u for u in a.used_by if not goes(u)]
    if users:
        shown = ", ".join(users[:5]) + (" …" if len(users) > 5 else "")
        raise NotSupported(
            f"Aggregate {a.schema}.{a.name}({a.types}) cannot be {verb} while {shown} "
            "use(s) it: Postgres drops an aggregate only once nothing uses it.",
            detail="Drop or change what uses it in one plan and the aggregate in the next, "
            "or give the new definition a new name.",
            source=source,
        )


def _routine_keys(a: Aggregate) -> list[tuple[str, str]]:
    """(schema, name) of each routine it calls; a bare name could be in any schema."""
    out = []
    for text in a.routines():
        parts = split_qualified(text)
        out.append((parts[0], parts[-1]) if len(parts) == 2 else ("", parts[0]))
    return out


def _deps(ctx: DiffContext, a: Aggregate) -> frozenset[Address]:
    """Its schema, the extensions, the plan's routines it names and the types it may name."""
    deps = {Address.of("pg", "schema", a.schema), *ctx.only_extension_deps}
    wanted = _routine_keys(a)
    for snap in (ctx.desired, ctx.live):
        for f in snap.functions.values():
            if (f.schema, f.name) in wanted or ("", f.name) in wanted:
                deps.add(f.address)
    said = f"{a.arguments} {a.stype} {a.mstype or ''}".lower()

    def named(name: str) -> bool:  # a word of the texts: perhaps the type, never fewer
        return re.search(rf"(?<![\w$]){re.escape(name.lower())}(?![\w$])", said) is not None

    for snap in (ctx.desired, ctx.live):
        for t in (*snap.enums.values(), *snap.domains.values(), *snap.composites.values()):
            if named(t.name):
                deps.add(t.address)
        for table in snap.tables.values():  # a row type
            if named(table.name):
                deps.add(table.address)
    return frozenset(deps)
