"""Rules: created, dropped, replaced (drop + create), rebuilt around the plan.

A rule is stored as a parse tree bound to the relations and columns it names (pg_depend), like
a view: Postgres refuses to retype or drop such a column, or to drop such a table, while the
rule exists, and dropping the table or view it is on takes it along without a word. So a live
rule that names something the plan reshapes or drops, or whose table or view the plan drops
and creates again (a view rebuilt around a retyped column), is dropped before and created
after, each by a change of its own: the down file brings it back too. A rule waits for its
table or view, every column of it and every relation its condition and commands name; it is
dropped before them.
"""

from __future__ import annotations

from reconciler.diff.context import DiffContext
from reconciler.diff.kinds import Kind, comment_change, walk
from reconciler.diff.views import reshaped_columns
from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg_rules import Rule
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Action, Change
from reconciler.ops.pg.rule import CreateRule, DropRule, SetRuleFires

_RELATIONS = frozenset({"table", "view", "materialized_view"})


def compare_rules(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    columns = reshaped_columns(changes)
    retyped = {(s, t) for s, t, _ in columns}
    dropped = _dropped(changes)

    def rebuild(_: object, old: Rule, new: Rule) -> bool:
        """Bound to what the plan drops or reshapes, or on a table or view it drops."""
        return (old.schema, old.table) in dropped or any(
            (s, r) in dropped or (s, r, c) in columns or (c is None and (s, r) in retyped)
            for s, r, c in old.reads
        )

    def alter(old: Rule, new: Rule) -> list[Change] | None:
        if not _only_fires(old, new):
            return None
        return [SetRuleFires(old, new.fires), *comment_change(old, new)]

    return walk(
        ctx.desired.rules,
        ctx.live.rules,
        Kind(
            create=lambda r: [CreateRule(r, _deps(ctx, r, ctx.desired))],
            rebuild=rebuild,
            comments=True,
            alter=alter,
            drop=lambda r: [DropRule(r, _deps(ctx, r, ctx.live))],
        ),
    )


def _only_fires(old: Rule, new: Rule) -> bool:
    return old.fires != new.fires and not attribute_changes(old, new, exclude=("fires", "comment"))


def _dropped(changes: list[Change]) -> set[tuple[str, str]]:
    """(schema, name) of every table and view the plan drops (perhaps to create it again)."""
    return {
        (c.address.parts[2], c.address.parts[3])
        for c in changes
        if c.address.kind in _RELATIONS and c.action is Action.DROP
    }


def _deps(ctx: DiffContext, r: Rule, snap: PgSnapshot) -> frozenset[Address]:
    """Its table or view, every column of each relation it is on or names (over-approximated
    on purpose, as for views), and the routines and sequences its texts name."""
    texts = tuple(t for t in (r.where, *r.actions) if t is not None)
    deps = set(ctx.callable_from(r.schema, r.table, texts))
    relations = {(r.schema, r.table), *((s, n) for s, n, _ in r.reads)}
    for schema, name in relations:
        deps.add(Address.of("pg", "table", schema, name))
        view = snap.views.get((schema, name))
        if view is not None:
            deps.add(view.address)
        table = snap.tables.get((schema, name))
        if table is not None:
            deps |= {table.column_address(c.name) for c in table.columns}
    for schema, name, column in r.reads:
        if column is not None:
            deps.add(Address.of("pg", "column", schema, name, column))
    return frozenset(deps)
