"""Triggers and policies: created, dropped, replaced (drop + create), rebuilt around the plan.

Postgres refuses to change the type of a column that a trigger's WHEN condition or UPDATE OF
list, or a policy's expressions, name. So the triggers and policies of a table whose columns
the plan reshapes are dropped before and created after when they have such a text (one
without does not mind). Dropping a view or table takes its triggers and policies along without
a word, so those of one the plan drops and creates again (a view replaced or rebuilt) are
dropped first and created after it, each by a change of its own: the down file brings them
back too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.diff.context import DiffContext
from reconciler.diff.kinds import Kind, comment_change, walk
from reconciler.diff.views import reshaped_columns, routine_users
from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg_objects import Policy, Trigger
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Action, Change
from reconciler.ops.pg.policy import CreatePolicy, DropPolicy
from reconciler.ops.pg.trigger import CreateTrigger, DropTrigger, SetTriggerFires


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
    remade = _remade(changes)
    bound = {tuple(rest) for k, *rest in routine_users(ctx, changes) if k == kind}

    def rebuild(key: Any, old: Trigger | Policy, new: Trigger | Policy) -> bool:
        on = (new.schema, new.table)
        return (
            on in remade
            or _from(old) in remade
            or (on in reshaped and reads_columns(new))
            or key in bound
        )

    def alter(old: Trigger | Policy, new: Any) -> list[Change] | None:
        if not (isinstance(old, Trigger) and _in_place(old, new)):
            return None
        return [SetTriggerFires(old, new.fires), *comment_change(old, new)]

    return walk(
        want,
        have,
        Kind(
            create=lambda new: [create(new, _deps(ctx, new, ctx.desired))],
            rebuild=rebuild,
            comments=True,
            alter=alter,
            drop=lambda old: [drop(old, _deps(ctx, old, ctx.live))],
        ),
    )


def _in_place(old: Trigger, new: Any) -> bool:
    """Only when it fires (and perhaps its comment) differs: ALTER TABLE, no drop."""
    return old.fires != new.fires and not attribute_changes(old, new, exclude=("fires", "comment"))


def _from(t: Trigger | Policy) -> tuple[str, str] | None:
    """A constraint trigger's FROM table: dropping it takes the trigger along too."""
    return t.from_table if isinstance(t, Trigger) else None


def _remade(changes: list[Change]) -> set[tuple[str, str]]:
    """(schema, name) of every table and view the plan drops and creates again."""
    drops: set[tuple[str, ...]] = set()
    creates: set[tuple[str, ...]] = set()
    for c in changes:
        if c.address.kind in _RELATIONS and c.action in (Action.DROP, Action.CREATE):
            (drops if c.action is Action.DROP else creates).add(tuple(c.address.parts[2:4]))
    return {(s, n) for s, n in drops & creates}


def _deps(ctx: DiffContext, t: Trigger | Policy, snap: PgSnapshot) -> frozenset[Address]:
    """Its table (or view) and every column of it, a constraint trigger's FROM table, and the
    routines (a trigger's function is one)."""
    deps = {t.table_address, *ctx.callable_from(t.schema, t.table)}
    table = snap.tables.get((t.schema, t.table))
    if table is not None:
        deps |= {table.column_address(c.name) for c in table.columns}
    view = snap.views.get((t.schema, t.table))
    if view is not None:
        deps.add(view.address)
    if isinstance(t, Trigger) and t.from_table is not None:
        deps.add(Address.of("pg", "table", *t.from_table))
    return frozenset(deps)


_RELATIONS = frozenset({"table", "view", "materialized_view"})
