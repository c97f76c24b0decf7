"""Triggers: created, dropped, replaced (drop + create), and rebuilt around the plan.

Postgres refuses to change the type of a column a trigger's WHEN condition or UPDATE OF list
names, so the triggers of a table whose columns the plan reshapes are dropped before and
created after when they have either (a trigger with neither does not mind).
"""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.diff.views import reshaped_columns
from reconciler.model.address import Address
from reconciler.model.pg import Trigger
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg_objects import SetComment
from reconciler.ops.pg_trigger import CreateTrigger, DropTrigger


def compare_triggers(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    want, have = ctx.desired.triggers, ctx.live.triggers
    reshaped = {(s, t) for s, t, _ in reshaped_columns(changes)}
    out: list[Change] = []
    for key, t in want.items():
        old = have.get(key)
        rebuild = old is not None and (t.schema, t.table) in reshaped and (t.when or t.columns)
        if old is None:
            out.append(CreateTrigger(t, _deps(ctx, t, ctx.desired)))
        elif old != t and _only_comment(old, t) and not rebuild:
            out.append(SetComment(t.address, old.comment, t.comment))
        elif old != t or rebuild:
            out.append(DropTrigger(old, _deps(ctx, old, ctx.live)))
            out.append(CreateTrigger(t, _deps(ctx, t, ctx.desired)))
    out += [DropTrigger(t, _deps(ctx, t, ctx.live)) for key, t in have.items() if key not in want]
    return out


def _only_comment(old: Trigger, new: Trigger) -> bool:
    from dataclasses import replace

    return replace(old, comment=new.comment) == new


def _deps(ctx: DiffContext, t: Trigger, snap: PgSnapshot) -> frozenset[Address]:
    """Its table and every column of it, and the routines (its function is one of them)."""
    deps = {t.table_address, *ctx.extension_deps}
    table = snap.tables.get((t.schema, t.table))
    if table is not None:
        deps |= {table.column_address(c.name) for c in table.columns}
    return frozenset(deps)
