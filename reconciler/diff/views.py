"""Views and materialized views: created, dropped, replaced, and rebuilt around the plan.

Postgres stores a view as a parse tree bound to the columns it reads, and refuses to change
such a column's type, drop it or drop its table while the view exists. Which columns a live
view reads comes from pg_depend (introspection), so every live view reading something the
plan reshapes is dropped before that change and created again after it, as are the views
reading those views, and the indexes of rebuilt materialized views (a drop takes them along).
So is every live view calling a routine the plan drops to create it again (pg_depend again).
A replaced view is a drop and a create of the same address; the graph runs the drop first.
"""

from __future__ import annotations

from reconciler.diff.carry import carried_rows
from reconciler.diff.context import DiffContext
from reconciler.diff.enums import enum_columns
from reconciler.diff.kinds import Kind, walk
from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg_objects import View
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg.column import DropColumn
from reconciler.ops.pg.column_alter import AlterColumn
from reconciler.ops.pg.function import DropFunction
from reconciler.ops.pg.generated import SetGenerated
from reconciler.ops.pg.index import CreateIndex, DropIndex
from reconciler.ops.pg.objects import SetComment
from reconciler.ops.pg.table import DropTable
from reconciler.ops.pg.trash import QuarantineTable
from reconciler.ops.pg.view import CreateView, DropView, SetViewOptions

Key = tuple[str, str]


def compare_views(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    want, have = ctx.desired.views, ctx.live.views
    rebuild = _rebuilt(ctx, changes)
    out = walk(
        want,
        have,
        Kind(
            # created from the desired side only, so after every change to what it reads
            create=lambda v: [CreateView(v, _deps(ctx, v, ctx.desired))],
            rebuild=lambda key, _, __: key in rebuild,
            alter=lambda old, new: None if _reshaped_view(old, new) else _in_place(old, new),
            drop=lambda v: [DropView(v, _deps(ctx, v, ctx.live))],
        ),
    )
    # a replaced view: a drop and a create of the same address (the graph runs the drop first)
    replaced = {(c.view.schema, c.view.name) for c in out if isinstance(c, DropView)} & set(want)
    return out + _reindex(ctx, replaced, changes)


_IN_PLACE = ("comment", "options", "column_comments")


def _reshaped_view(old: View, new: View) -> bool:
    """A change other than comments and options: the view is created again."""
    return bool(attribute_changes(old, new, exclude=_IN_PLACE))


def _in_place(old: View, new: View) -> list[Change]:
    out: list[Change] = []
    if old.comment != new.comment:
        out.append(SetComment(new.address, old.comment, new.comment))
    if old.options != new.options:
        out.append(SetViewOptions(new, old.options, new.options))
    had, has = dict(old.column_comments), dict(new.column_comments)
    for column in sorted(had.keys() | has.keys()):
        if had.get(column) != has.get(column):
            target = Address.of("pg", "column", new.schema, new.name, column)
            out.append(SetComment(target, had.get(column), has.get(column)))
    return out


def reshaped_columns(changes: list[Change]) -> set[tuple[str, str, str]]:
    """(schema, table, column) of every column the plan retypes, drops or regenerates."""
    return _reshaped(changes)[0]


def _reshaped(changes: list[Change]) -> tuple[set[tuple[str, str, str]], set[Key]]:
    """Columns (schema, table, column) and tables the plan changes in a way Postgres refuses
    under a view reading them: a new type or collation, a drop, a generation change."""
    columns: set[tuple[str, str, str]] = set()
    tables: set[Key] = set()
    for c in changes:
        if isinstance(c, AlterColumn):
            if (c.old.type, c.old.collation) != (c.new.type, c.new.collation):
                columns.add((c.schema, c.table, c.old.name))
        elif isinstance(c, DropColumn):
            columns.add((c.schema, c.table, c.column.name))
        elif isinstance(c, SetGenerated):
            columns.add((c.schema, c.table, c.old.name))
        elif isinstance(c, DropTable | QuarantineTable):
            tables.add((c.table.schema, c.table.name))
    return columns | enum_columns(changes), tables


def routine_users(ctx: DiffContext, changes: list[Change]) -> set[tuple[str, ...]]:
    """The checks, indexes and views (address parts) bound to a live routine that the plan
    drops to create it again, or to replace it by one of its name with another signature
    (made again after it, the same text binds to the new one)."""
    names = {(s, n) for s, n, _ in ctx.desired.functions}
    recreated = {
        c.address
        for c in changes
        if isinstance(c, DropFunction)
        and (c.function.key in ctx.desired.functions or c.function.key[:2] in names)
    }
    return {
        parts for f in ctx.live.functions.values() if f.address in recreated for parts in f.used_by
    }


def _rebuilt(ctx: DiffContext, changes: list[Change]) -> set[Key]:
    """Live views to drop and create again: readers of a reshaped column or a dropped table,
    of a view that changes or goes, and so on up the chain."""
    want, have = ctx.desired.views, ctx.live.views
    columns, tables = _reshaped(changes)
    with_columns = {(s, t) for s, t, _ in columns}
    changed = {key for key, v in have.items() if key not in want or _reshaped_view(v, want[key])}
    # bound to a routine dropped to be created again: rebuilt, and so are their readers
    bound = {
        (s, n)
        for kind, s, n, *_ in routine_users(ctx, changes)
        if kind in ("view", "materialized_view") and (s, n) in have and (s, n) in want
    }
    changed |= bound

    def affected(read: tuple[str, str, str | None], views: set[Key]) -> bool:
        schema, relation, column = read
        if (schema, relation) in views or (schema, relation) in tables:
            return True
        if column is None:  # the whole relation (count(*), a row value): any column counts
            return (schema, relation) in with_columns
        return (schema, relation, column) in columns

    rebuild: set[Key] = set(bound)
    while True:
        more = {
            key
            for key, v in have.items()
            if key not in rebuild and any(affected(r, changed | rebuild) for r in v.reads)
        }
        if not more:
            return rebuild
        rebuild |= more


def _deps(ctx: DiffContext, v: View, snap: PgSnapshot) -> frozenset[Address]:
    """Everything a view needs first: its schema, the extensions, each relation it reads and,
    for a table, every column of it (over-approximated on purpose: a created view waits for
    all of the plan's column changes there, a dropped one goes before all of them)."""
    deps = {Address.of("pg", "schema", v.schema), *ctx.callable_from(v.schema, v.name)}
    if any((schema, relation) in ctx.rebuilt for schema, relation, _ in v.reads):
        deps |= carried_rows(ctx)  # a materialized view fills in once the rows are back
    for schema, relation, column in v.reads:
        deps.add(Address.of("pg", "table", schema, relation))
        if column is not None:
            deps.add(Address.of("pg", "column", schema, relation, column))
        view = snap.views.get((schema, relation))
        if view is not None:
            deps.add(view.address)
        table = snap.tables.get((schema, relation))
        if table is not None:
            deps |= {table.column_address(c.name) for c in table.columns}
    return frozenset(deps)


def _reindex(ctx: DiffContext, replaced: set[Key], changes: list[Change]) -> list[Change]:
    """Indexes of replaced materialized views: dropping the view takes them along, so each
    is dropped first (by a change of its own, for the down file) and created after."""
    planned = {c.address for c in changes}
    out: list[Change] = []
    for (schema, name), ix in ctx.live.indexes.items():
        key = (schema, ix.table)
        if key not in replaced or ix.address in planned:
            continue
        out.append(DropIndex(ix, frozenset({ctx.live.views[key].address})))
        new, view = ctx.desired.indexes.get((schema, name)), ctx.desired.views.get(key)
        if new is not None and view is not None:
            out.append(CreateIndex(new, frozenset({view.address}), new_table=True))
    return out
