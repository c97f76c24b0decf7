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
from reconciler.diff.views import reshaped_columns
from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes, only_comment_differs
from reconciler.model.pg_rules import Rule
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Action, Change
from reconciler.ops.pg.objects import SetComment
from reconciler.ops.pg.rule import CreateRule, DropRule, SetRuleFires

_RELATIONS = frozenset({"table", "view", "materialized_view"})


def compare_rules(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    want, have = ctx.desired.rules, ctx.live.rules
    columns = reshaped_columns(changes)
    retyped = {(s, t) for s, t, _ in columns}
    dropped = _dropped(changes)
    out: list[Change] = []
    for key, new in want.items():
        old = have.get(key)
        if old is None:
            out.append(CreateRule(new, _deps(ctx, new, ctx.desired)))
            continue
        rebuild = (old.schema, old.table) in dropped or any(
            (s, r) in dropped or (s, r, c) in columns or (c is None and (s, r) in retyped)
            for s, r, c in old.reads
        )
        if old == new and not rebuild:
            continue
        if only_comment_differs(old, new) and not rebuild:
            out.append(SetComment(new.address, old.comment, new.comment))
        elif _only_fires(old, new) and not rebuild:
            out.append(SetRuleFires(old, new.fires))
            if old.comment != new.comment:
                out.append(SetComment(new.address, old.comment, new.comment))
        else:
            out.append(DropRule(old, _deps(ctx, old, ctx.live)))
            out.append(CreateRule(new, _deps(ctx, new, ctx.desired)))
    for key, old in have.items():
        if key not in want:
            out.append(DropRule(old, _deps(ctx, old, ctx.live)))
    return out


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
