"""Enum types: created, dropped, values added in place, or the type rebuilt (ops/pg/enum.py).

Runs after the tables and indexes are compared: what a rebuild takes off and puts back around
the retype is what the rest of the plan leaves alone (a check the plan drops or replaces is
its own business, and a column it drops or retypes away from the enum is not retyped here).
"""

from __future__ import annotations

import re
from dataclasses import replace

from reconciler.diff.context import DiffContext
from reconciler.diff.default_grants import default_grants_after
from reconciler.diff.kinds import Kind, comment_change, walk
from reconciler.errors import NotSupported
from reconciler.model.names import qualified
from reconciler.model.pg import Enum
from reconciler.model.pg_grants import Grant, created_grants
from reconciler.ops.base import Action, Change
from reconciler.ops.pg.column import DropColumn
from reconciler.ops.pg.column_alter import AlterColumn
from reconciler.ops.pg.enum import AddEnumValues, EnumColumn, EnumUses, RebuildEnum
from reconciler.ops.pg.objects import CreateEnum, DropEnum
from reconciler.ops.pg.table import DropTable


def compare_enums(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    def alter(old: Enum, new: Enum) -> list[Change] | None:
        """The same values (its comment perhaps changed), or values inserted in place."""
        if old.labels == new.labels:
            return comment_change(old, new)
        if not _is_insertion(old.labels, new.labels):
            return None
        uses = None if _blockers(ctx, old) else _uses(ctx, old, changes)
        return [AddEnumValues(old, new, uses), *comment_change(old, new)]

    def rebuild(old: Enum, new: Enum) -> list[Change]:
        blockers = _blockers(ctx, old)
        if blockers:
            raise NotSupported(
                f"Enum {new.schema}.{new.name}: removing or reordering values "
                f"({', '.join(old.labels)} → {', '.join(new.labels)}) means rebuilding the "
                f"type, and {blockers[0]} uses it.",
                detail="Only table columns (and views, triggers, policies reading them) are "
                "carried through a rebuild; change that object in a separate plan first.",
                source=new.source,
            )
        return [RebuildEnum(old, new, _uses(ctx, old, changes))]  # sets the new comment

    return walk(
        ctx.desired.enums,
        ctx.live.enums,
        Kind(
            create=lambda e: [CreateEnum(e)],
            alter=alter,
            replace=rebuild,
            drop=lambda e: [DropEnum(e)],
        ),
    )


def _is_insertion(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
    """True when `new` keeps every old label in the same relative order (only insertions)."""
    it = iter(new)
    return all(label in it for label in old)


def _names_type(text: str | None, type_name: str) -> bool:
    if not text:
        return False
    return re.search(re.escape(type_name) + r"(?![\w$])", text) is not None


def _blockers(ctx: DiffContext, e: Enum) -> list[str]:
    """Live objects other than table columns that use the type: a rebuild cannot move them."""
    name = qualified(e.schema, e.name)
    snap = ctx.live
    found = [
        f"domain {d.schema}.{d.name}" for d in snap.domains.values() if _names_type(d.type, name)
    ]
    found += [
        f"composite type {c.schema}.{c.name}"
        for c in snap.composites.values()
        if any(_names_type(a[1], name) for a in c.attributes)
    ]
    found += [
        f"function {f.schema}.{f.name}({f.types})"
        for f in snap.functions.values()
        if _names_type(f.arguments, name) or _names_type(f.returns, name)
    ]
    return sorted(found)


def _uses(ctx: DiffContext, e: Enum, changes: list[Change]) -> EnumUses:
    """The live columns of the type that the plan keeps on it, with their defaults before
    and after, and the checks and indexes reading them that the plan leaves alone."""
    name, key = qualified(e.schema, e.name), (e.schema, e.name)
    gone_tables = {(c.table.schema, c.table.name) for c in changes if isinstance(c, DropTable)}
    moved = {
        (c.schema, c.table, c.column.name if isinstance(c, DropColumn) else c.old.name)
        for c in changes
        if isinstance(c, DropColumn) or (isinstance(c, AlterColumn) and c.old.type != c.new.type)
    }
    replaced = {c.address for c in changes if c.action is Action.DROP}
    columns: list[EnumColumn] = []
    for (schema, table), t in ctx.live.tables.items():
        if (schema, table) in gone_tables:
            continue
        wanted = ctx.desired.tables.get((schema, table))
        for col in t.columns:
            if col.type not in (name, f"{name}[]") or (schema, table, col.name) in moved:
                continue
            after = wanted.column(col.name) if wanted is not None else None
            columns.append(
                EnumColumn(
                    schema,
                    table,
                    col.name,
                    col.type.endswith("[]"),
                    col.default,
                    after.default if after is not None else col.default,
                )
            )
    used = {(c.schema, c.table, c.column) for c in columns}
    checks = []
    for (schema, table), t in ctx.live.tables.items():
        for k in t.checks:
            reads = {(schema, table, n) for n in ctx.refs(k.expression)}
            if reads & used and t.constraint_address(k.name) not in replaced:
                checks.append((schema, table, k))
    indexes = []
    for ix in ctx.live.indexes.values():
        texts = [ix.where, *(el.expression for el in ix.elements)]
        reads = {(ix.schema, ix.table, n) for text in texts for n in ctx.refs(text)}
        if reads & used and ix.address not in replaced:
            indexes.append(ix)
    # what the type made again may be given (under the default privileges found, or the
    # plan's: the rebuild is not ordered against them), and what each role held on it
    held = {
        g.role: g for g in ctx.live.grants.values() if (g.on, g.schema, g.name) == ("type", *key)
    }
    fresh: dict[str, tuple[set[str], set[str]]] = {}
    defaults = (ctx.live.default_grants.values(), default_grants_after(ctx).values())
    for found in defaults:
        for role, (p, g) in created_grants(found, ctx.live.creator, "type", e.schema).items():
            fresh.setdefault(role, (set(), set()))[0].update(p)
            fresh[role][1].update(g)
    grants = []
    for role in sorted({*held, *fresh}):
        now = held.get(role) or Grant("type", e.schema, e.name, None, role)
        p, g = fresh.get(role, (set(), set()))
        made = replace(now, privileges=tuple(sorted(p)), grantable=tuple(sorted(g)))
        grants.append((made, now))
    return EnumUses(tuple(columns), tuple(checks), tuple(indexes), tuple(grants))


def enum_columns(changes: list[Change]) -> set[tuple[str, str, str]]:
    """(schema, table, column) of every column an enum rebuild retypes (for the views,
    triggers and policies reading them, which Postgres refuses to keep over a retype), in
    the up file or, for a value added in place, in the down file (its rollback rebuilds)."""
    return {
        (c.schema, c.table, c.column)
        for change in changes
        if isinstance(change, RebuildEnum | AddEnumValues) and change.uses is not None
        for c in change.uses.columns
    }
