"""Triggers and policies: created, dropped, replaced (drop + create), rebuilt around the plan.

Postgres refuses to change the type of a column that a trigger's WHEN condition or UPDATE OF
list, or a policy's expressions, name. So the triggers and policies of a table whose columns
the plan reshapes are dropped before and created after when they have such a text (one
without does not mind).
"""

from __future__ import annotations

from typing import Any

from reconciler.diff.context import DiffContext
from reconciler.diff.views import reshaped_columns
from reconciler.model.address import Address
from reconciler.model.pg_objects import Policy, Trigger
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg_objects import SetComment
from reconciler.ops.pg_policy import CreatePolicy, DropPolicy
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


def compare_policies(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    want, have = ctx.desired.policies, ctx.live.policies
    reshaped = {(s, t) for s, t, _ in reshaped_columns(changes)}
    out: list[Change] = []
    for key, p in want.items():
        old = have.get(key)
        rebuild = old is not None and (p.schema, p.table) in reshaped and (p.using or p.check)
        if old is None:
            out.append(CreatePolicy(p, _deps(ctx, p, ctx.desired)))
        elif old != p and _only_comment(old, p) and not rebuild:
            out.append(SetComment(p.address, old.comment, p.comment))
        elif old != p or rebuild:
            out.append(DropPolicy(old, _deps(ctx, old, ctx.live)))
            out.append(CreatePolicy(p, _deps(ctx, p, ctx.desired)))
    out += [DropPolicy(p, _deps(ctx, p, ctx.live)) for key, p in have.items() if key not in want]
    return out


def _only_comment(old: Any, new: Any) -> bool:
    from dataclasses import replace

    return replace(old, comment=new.comment) == new


def _deps(ctx: DiffContext, t: Trigger | Policy, snap: PgSnapshot) -> frozenset[Address]:
    """Its table and every column of it, and the routines (a trigger's function is one)."""
    deps = {t.table_address, *ctx.extension_deps}
    table = snap.tables.get((t.schema, t.table))
    if table is not None:
        deps |= {table.column_address(c.name) for c in table.columns}
    return frozenset(deps)
