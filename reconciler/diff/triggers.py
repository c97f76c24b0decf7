"""Triggers and policies: created, dropped, replaced (drop + create), rebuilt around the plan.

Postgres refuses to change the type of a column that a trigger's WHEN condition or UPDATE OF
list, or a policy's expressions, name. So the triggers and policies of a table whose columns
the plan reshapes are dropped before and created after when they have such a text (one
without does not mind).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.diff.context import DiffContext
from reconciler.diff.views import reshaped_columns, routine_users
from reconciler.model.address import Address
from reconciler.model.compare import only_comment_differs
from reconciler.model.pg_objects import Policy, Trigger
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg_objects import SetComment
from reconciler.ops.pg_policy import CreatePolicy, DropPolicy
from reconciler.ops.pg_trigger import CreateTrigger, DropTrigger


def compare_triggers(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    return _compare(
        ctx,
        ctx.desired.triggers,
        ctx.live.triggers,
        changes,
        reads_columns=lambda t: bool(t.when or t.columns),
        kind="trigger",
        create=CreateTrigger,
        drop=DropTrigger,
    )


def compare_policies(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    return _compare(
        ctx,
        ctx.desired.policies,
        ctx.live.policies,
        changes,
        reads_columns=lambda p: bool(p.using or p.check),
        kind="policy",
        create=CreatePolicy,
        drop=DropPolicy,
    )


def _compare(
    ctx: DiffContext,
    want: Mapping[Any, Trigger | Policy],
    have: Mapping[Any, Trigger | Policy],
    changes: list[Change],
    *,
    reads_columns: Callable[[Any], bool],
    kind: str,
    create: Callable[..., Change],
    drop: Callable[..., Change],
) -> list[Change]:
    """Create, drop, replace or comment each object of a table; one naming columns on a table
    whose columns the plan reshapes is rebuilt around the change, as is one calling a routine
    the plan drops to create it again (pg_depend)."""
    reshaped = {(s, t) for s, t, _ in reshaped_columns(changes)}
    bound = {tuple(rest) for k, *rest in routine_users(ctx, changes) if k == kind}
    out: list[Change] = []
    for key, new in want.items():
        old = have.get(key)
        rebuild = old is not None and (
            ((new.schema, new.table) in reshaped and reads_columns(new)) or key in bound
        )
        if old is None:
            out.append(create(new, _deps(ctx, new, ctx.desired)))
        elif only_comment_differs(old, new) and not rebuild:
            out.append(SetComment(new.address, old.comment, new.comment))
        elif old != new or rebuild:
            out.append(drop(old, _deps(ctx, old, ctx.live)))
            out.append(create(new, _deps(ctx, new, ctx.desired)))
    out += [drop(old, _deps(ctx, old, ctx.live)) for key, old in have.items() if key not in want]
    return out


def _deps(ctx: DiffContext, t: Trigger | Policy, snap: PgSnapshot) -> frozenset[Address]:
    """Its table and every column of it, and the routines (a trigger's function is one)."""
    deps = {t.table_address, *ctx.callable_from(t.schema, t.table)}
    table = snap.tables.get((t.schema, t.table))
    if table is not None:
        deps |= {table.column_address(c.name) for c in table.columns}
    return frozenset(deps)
