"""Views and materialized views from their specs (the `views:` key of any file).

A view's query is checked to be exactly one SELECT and kept as written (stripped); the planner
asks the server for its own spelling before comparing (pipeline/canonical.py). What a desired view
reads is taken from its parsed query, relations only: enough to order its creation after
theirs. Which columns a live view reads comes from pg_depend instead (introspection).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reconciler.desired import fastspec
from reconciler.desired.context import split_name
from reconciler.desired.grants import declare_grants
from reconciler.desired.rules import build_rule
from reconciler.desired.tables import TableBuilder
from reconciler.desired.triggers import build_trigger
from reconciler.model.pg_objects import View, view_options
from reconciler.project.yamlload import Where
from reconciler.sql import expressions as sqlexpr
from reconciler.sql import fragments as sqltext

if TYPE_CHECKING:
    from collections.abc import Sequence

    from reconciler.desired.context import Context
    from reconciler.desired.spec import ViewSpec


def build_view(ctx: Context, spec: ViewSpec, where: Where) -> None:
    name_at = where.sub("name")
    schema, name = split_name(spec.name, spec.schema_, "public")
    if not (ctx.name_ok(schema, name_at) and ctx.name_ok(name, name_at)):
        return
    what = "materialized view" if spec.materialized else "view"
    if not ctx.claim_relation(schema, name, what, name_at):
        return
    try:
        query = sqlexpr.check_query(spec.query)
    except sqltext.SqlTextError as exc:
        ctx.report(where.sub("query"), str(exc))
        return
    ctx.use_schema(schema, where)
    reads = tuple((s, r, None) for s, r in sqlexpr.relations_read(query))
    options = _options(ctx, spec, where)
    for column in spec.column_comments:
        ctx.name_ok(column, where.sub("column_comments", column))
    view = View(
        schema,
        name,
        query,
        spec.materialized,
        spec.comment,
        reads,
        where.source,
        options=options,
        column_comments=tuple(sorted(spec.column_comments.items())),
    )
    ctx.views[(schema, name)] = view
    declare_grants(ctx, "table", schema, name, spec.grants, where)  # columns: the server's
    indexes = _ViewIndexes(ctx, schema, name, where)
    if spec.triggers and spec.materialized:
        ctx.report(where.sub("triggers"), "a materialized view has no triggers", key=True)
    for i, tg in enumerate([] if spec.materialized else spec.triggers):
        build_trigger(indexes, tg, where.sub("triggers", i))
    if spec.rules and spec.materialized:
        ctx.report(where.sub("rules"), "a materialized view has no rules", key=True)
    for i, rule in enumerate([] if spec.materialized else spec.rules):
        build_rule(ctx, schema, name, rule, where.sub("rules", i), view=True)
    if spec.indexes and not spec.materialized:
        ctx.report(where.sub("indexes"), "only a materialized view can have indexes", key=True)
        return
    for i, ix in enumerate(spec.indexes):
        indexes.index(ix, where.sub("indexes", i))


_OPTION_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
_OPTION_VALUE = re.compile(r"[A-Za-z0-9_.+-]+\Z")


def _options(ctx: Context, spec: ViewSpec, where: Where) -> tuple[str, ...]:
    """`name=value` texts spliced into WITH (…): a plain name and a plain value each."""
    pairs = []
    for key, value in spec.options.items():
        ow = where.sub("options", key)
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if not _OPTION_NAME.match(key):
            ctx.report(ow, f"'{key}' is not an option name")
        elif not _OPTION_VALUE.match(text):
            ctx.report(ow, f"'{text}' is not a plain option value")
        else:
            pairs.append((key, text))
    return view_options(pairs)


class _ViewIndexes(TableBuilder):
    """A materialized view's indexes, built like a table's. Its columns are the query's
    output, which only the server knows: a wrong column name is the server's to refuse."""

    def __init__(self, ctx: Context, schema: str, name: str, where: Where) -> None:
        spec = fastspec.parse("ViewSpec", {"name": name, "query": "SELECT 1"})  # spec unused
        super().__init__(ctx, spec, where)
        self.schema, self.name = schema, name

    def exist(self, cols: Sequence[str], where: Where, what: str, *, unique: bool = False) -> None:
        for j, col in enumerate(cols):
            if unique and list(cols).index(col) != j:
                self.ctx.report(where.sub(j), f"column '{col}' appears twice in the {what}")


def report_view_cycles(ctx: Context) -> None:
    """A view that reads itself, or views that read each other in a ring, can never be
    created (Postgres needs every relation a view reads to exist first): refuse them here,
    once per ring, at the smallest view's line, rather than at apply."""
    graph: dict[tuple[str, str], set[tuple[str, str]]] = {
        key: {(s, r) for s, r, _ in v.reads if (s, r) in ctx.views} for key, v in ctx.views.items()
    }
    for ring in _rings(graph):
        first = ctx.views[ring[0]]
        names = [f"{s}.{n}" for s, n in ring]
        if len(ring) == 1:
            message = f"view {names[0]} reads itself, so Postgres can never create it"
        else:
            path = " → ".join([*names, names[0]])
            message = f"views {path} read each other in a ring, so Postgres can create none of them"
        shown, _, line = (first.source or "").rpartition(":")
        ctx.problems.append((shown, int(line) if line.isdigit() else 1, message))


def _rings(graph: dict[tuple[str, str], set[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    """One cycle per strongly connected group of views, from its smallest member."""
    if not any(graph.values()):
        return []  # no view reads another: no ring, and no need to load networkx
    import networkx as nx  # deferred: a heavy library only this ring check needs

    g = nx.DiGraph()
    g.add_nodes_from(graph)
    g.add_edges_from((a, b) for a, bs in graph.items() for b in bs)
    out = []
    for group in nx.strongly_connected_components(g):
        start = min(group)
        if len(group) == 1 and not g.has_edge(start, start):
            continue
        # the shortest way back to the start, so the sentence names a real ring
        back = min(
            (nx.shortest_path(g, nxt, start) for nxt in g.successors(start) if nxt in group),
            key=lambda p: (len(p), p),
        )
        out.append([start, *back[:-1]] if back[0] != start else [start])
    return sorted(out)
