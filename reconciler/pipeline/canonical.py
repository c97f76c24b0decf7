"""Ask the server how it spells the desired expressions and types, before comparing.

Postgres stores expressions as parse trees and prints them back its own way: `price > 0`
comes back as `(price > 0)`, `status IN ('a','b')` as `(status = ANY (ARRAY['a'::text, …]))`,
`varchar(20)` as `character varying(20)`. A textual comparison would then plan changes forever.
So for every table that exists on both sides and whose texts differ from live, the desired
table is built in a scratch schema inside a transaction that is always rolled back, read back
with the very same introspection queries, and its texts replace the desired ones. Nothing is
committed and no existing table is locked; tables whose probe fails (e.g. a type that does not
exist yet) keep their text and show up as changes, which is the honest outcome.

Tables are probed here; functions, triggers, policies, views, domains and collations in
canonical_objects.py, rules and aggregates in canonical_rules.py and canonical_aggregates.py, all
on the scratch-schema machinery of probe.py.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from reconciler.model.pg import Check, Column, Index, Table
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.pg.view import create_view_sql
from reconciler.pipeline.canonical_aggregates import (
    aggregates_to_probe,
    probe_aggregates,
)
from reconciler.pipeline.canonical_rules import probe_rules, rules_to_probe
from reconciler.pipeline.preflight import changed_objects, preflight
from reconciler.pipeline.probe import (
    attempt,
    cannot_probe,
    probe_column,
    probe_table_sql,
    probing,
    scratch_schema,
    with_inherited,
)
from reconciler.sql.render import ident, index_def

if TYPE_CHECKING:
    import psycopg

_WS = re.compile(r"\s+")


def _same(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return _WS.sub(" ", a.strip()) == _WS.sub(" ", b.strip())


def _live_table(live: PgSnapshot, t: Table) -> Table | None:
    found = live.tables.get((t.schema, t.name))
    if found is None and t.renamed_from:
        found = live.tables.get((t.schema, t.renamed_from))
    return found


def _live_column(live: Table, c: Column) -> Column | None:
    return live.column(c.name) or (live.column(c.renamed_from) if c.renamed_from else None)


def _needs_probe(t: Table, live_t: Table) -> bool:
    if (t.partition_by, t.bound) != (live_t.partition_by, live_t.bound):
        return True
    for c in t.columns:
        lc = _live_column(live_t, c)
        if lc is None:
            continue
        if c.type != lc.type or c.collation != lc.collation:
            return True
        if not (_same(c.default, lc.default) and _same(c.generated, lc.generated)):
            return True
    live_checks = {k.name: k for k in (*live_t.checks, *live_t.exclusions)}
    mine = (*t.checks, *t.exclusions)
    return any(k.name in live_checks and k != live_checks[k.name] for k in mine)


def _reading_retyped(
    desired: PgSnapshot, live: PgSnapshot, changed: PgSnapshot
) -> set[tuple[str, str]]:
    """The views that read, directly or through other views, a column whose type the plan
    changes. A probe of one would read the column's old type: the server would spell the
    query for it (dropping a cast that is a no-op on the old type, adding casts of the old
    type), and the view would be created from that text. Theirs is kept as written."""
    retyped = set()
    for key, t in changed.tables.items():  # a table as live holds it changes no type
        live_t = _live_table(live, t)
        if live_t is None:
            continue
        for c in t.columns:
            lc = _live_column(live_t, c)
            if lc is not None and (c.type, c.collation) != (lc.type, lc.collation):
                retyped.add(key)
                break
    out: set[tuple[str, str]] = set()
    grew = bool(retyped)
    while grew:
        grew = False
        for key, v in desired.views.items():
            if key not in out and any((s, r) in retyped or (s, r) in out for s, r, _ in v.reads):
                out.add(key)
                grew = True
    return out


def _partition_depth(tables: dict[tuple[str, str], Table], key: tuple[str, str]) -> int:
    """How many parents up a table's partition_of chain goes (parents are probed first)."""
    depth, seen = 0, {key}
    t = tables.get(key)
    while t is not None and t.partition_of is not None and t.partition_of not in seen:
        seen.add(t.partition_of)
        depth += 1
        t = tables.get(t.partition_of)
    return depth


def _probe_table(
    conn: psycopg.Connection,
    scratch: str,
    t: Table,
    parent_schema: str | None = None,
) -> bool:
    """Build the probe; when one expression breaks the whole CREATE, fall back to the bare
    columns and add each generated column, default and check on its own, so that one
    expression the server cannot take yet (a function the plan creates, a value of an enum
    being extended) leaves the others canonical. (A generated column left unspelled would
    compare as changed, and be dropped and added again: a rewrite of the table.)"""
    if attempt(conn, probe_table_sql(scratch, t, parent_schema)):
        return True
    bare = dataclasses.replace(
        t,
        columns=tuple(
            dataclasses.replace(c, default=None) for c in t.columns if c.generated is None
        ),
        checks=(),
        exclusions=(),
    )
    if not attempt(conn, probe_table_sql(scratch, bare, parent_schema)):
        return False
    table = ident(scratch, t.name)
    for c in t.columns:  # read back by name: their place in the probe does not matter
        if c.generated is not None:
            column = probe_column(dataclasses.replace(c, default=None))
            attempt(conn, f"ALTER TABLE {table} ADD COLUMN {column}")
    for c in t.columns:
        if c.default is not None:
            attempt(
                conn, f"ALTER TABLE {table} ALTER COLUMN {ident(c.name)} SET DEFAULT {c.default}"
            )
    for k in t.checks:
        attempt(conn, f"ALTER TABLE {table} ADD CONSTRAINT {ident(k.name)} CHECK ({k.expression})")
    for x in t.exclusions:
        attempt(conn, f"ALTER TABLE {table} ADD CONSTRAINT {ident(x.name)} {x.definition}")
    return True


def canonicalize(conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot) -> PgSnapshot:
    """desired, with texts replaced by the server's spelling where a probe succeeded.

    What the server would refuse at apply (unknown types and functions, a NOT NULL column
    added to a table holding rows) is refused here first, with its file:line (preflight.py)."""
    changed = changed_objects(desired, live)  # the others are as live holds them: no probe
    preflight(conn, desired, live, changed)
    todo = []
    for key, t in changed.tables.items():
        live_t = _live_table(live, t)
        if live_t is not None and live_t != t and _needs_probe(t, live_t):
            todo.append(key)
    todo_indexes = [key for key in changed.indexes if key in live.indexes]
    retyped = _reading_retyped(desired, live, changed)
    todo_views = [
        key
        for key, v in changed.views.items()
        if key in live.views
        and v.query != live.views[key].query  # even in white space only
        and key not in retyped
    ]
    todo_functions = list(changed.functions)
    todo_triggers = [
        key for key, t in changed.triggers.items() if t.when is not None and key in live.triggers
    ]
    todo_policies = [
        key for key, p in changed.policies.items() if (p.using or p.check) and key in live.policies
    ]
    todo_on_tables = todo_triggers or todo_policies
    todo_domains = [key for key in changed.domains if key in live.domains]
    todo_collations = [
        key for key, c in desired.collations.items() if live.collations.get(key, c) != c
    ]
    todo_types = todo_domains or todo_collations
    todo_rules = rules_to_probe(desired, live)
    todo_types = todo_types or aggregates_to_probe(desired, live)
    todo_on_tables = todo_on_tables or todo_rules
    if not (todo or todo_indexes or todo_views or todo_functions or todo_on_tables or todo_types):
        return desired

    import psycopg  # deferred: start-up: psycopg

    from reconciler.pipeline.canonical_objects import (  # deferred: start-up: psycopg
        probe_collations,
        probe_domains,
        probe_functions,
        probe_table_objects,
    )

    try:
        probed = _probe(conn, desired, todo, todo_indexes, todo_views)
        if todo_functions:
            probed = probe_functions(conn, probed, live, todo_functions)
        if todo_triggers or todo_policies:
            probed = probe_table_objects(conn, probed, todo_triggers, todo_policies)
        if todo_domains:
            probed = probe_domains(conn, probed, todo_domains)
        if todo_collations:
            probed = probe_collations(conn, probed, todo_collations)
        if todo_rules:
            probed = probe_rules(conn, probed, todo_rules)
        if todo_aggregates := aggregates_to_probe(probed, live):
            probed = probe_aggregates(conn, probed, todo_aggregates)
        return probed
    except psycopg.Error as exc:
        # Outside the probes themselves (each behind a savepoint: one refused is that object's
        # change): the server did not let the plan try anything (a timeout reading the scratch
        # schemas back, say). Planning on would show spelling-only changes that are none.
        raise cannot_probe(conn, exc) from None


def _probe(
    conn: psycopg.Connection,
    desired: PgSnapshot,
    todo: list[tuple[str, str]],
    todo_indexes: list[tuple[str, str]],
    todo_views: list[tuple[str, str]],
) -> PgSnapshot:
    from reconciler.introspect.pg.catalog import introspect  # deferred: start-up: psycopg

    probe_schema: dict[str, str] = {}  # real schema → scratch schema
    with probing(conn):
        created: set[tuple[str, str]] = set()
        for key in sorted(todo, key=lambda k: _partition_depth(desired.tables, k)):
            scratch = scratch_schema(probe_schema, conn, key[0])
            t = desired.tables[key]
            parent_schema = None
            if t.partition_of is not None:
                parent_schema = _probe_parent(conn, probe_schema, desired, t.partition_of, created)
                if parent_schema is None:
                    continue
            if _probe_table(conn, scratch, with_inherited(desired, t), parent_schema):
                created.add(key)
        for key in todo_indexes:
            ix = desired.indexes[key]
            table = desired.tables.get((ix.schema, ix.table))
            if table is None:
                continue
            scratch = scratch_schema(probe_schema, conn, ix.schema)
            if (ix.schema, ix.table) not in created:
                # Only the columns are needed to spell an index; checks would be noise.
                bare = dataclasses.replace(with_inherited(desired, table), checks=(), exclusions=())
                if attempt(conn, probe_table_sql(scratch, bare)):
                    created.add((ix.schema, ix.table))
            attempt(conn, index_def(dataclasses.replace(ix, schema=scratch), if_not_exists=True))
        for key in todo_views:
            # The query names the real relations, so the scratch view reads exactly what the
            # real one would, and the server prints it exactly as it prints the live one.
            v = desired.views[key]
            scratch = scratch_schema(probe_schema, conn, v.schema)
            attempt(conn, create_view_sql(dataclasses.replace(v, schema=scratch), with_data=False))
        probed = introspect(conn, schemas=sorted(probe_schema.values()))
    back = {v: k for k, v in probe_schema.items()}
    return _merge(desired, probed, back)


def _probe_parent(
    conn: psycopg.Connection,
    probe_schema: dict[str, str],
    desired: PgSnapshot,
    key: tuple[str, str],
    created: set[tuple[str, str]],
) -> str | None:
    """The scratch schema of a partition's parent, its probe built (bare) when not yet."""
    scratch = scratch_schema(probe_schema, conn, key[0])
    if key in created:
        return scratch
    parent = desired.tables.get(key)
    if parent is None or parent.partition_of is not None:  # sub-partitions: parents in todo
        return None
    bare = dataclasses.replace(parent, checks=(), exclusions=())
    if not attempt(conn, probe_table_sql(scratch, bare)):
        return None
    created.add(key)
    return scratch


def _merge(desired: PgSnapshot, probed: PgSnapshot, back: dict[str, str]) -> PgSnapshot:
    tables = dict(desired.tables)
    indexes = dict(desired.indexes)
    for (pschema, name), pt in probed.tables.items():
        key = (back[pschema], name)
        t = tables.get(key)
        if t is None:
            continue
        cols = []
        for c in t.columns:
            pc = pt.column(c.name)
            if pc is not None:
                # An expression the probe could not take keeps the desired text.
                c = dataclasses.replace(
                    c,
                    type=pc.type,
                    collation=pc.collation,
                    default=pc.default if pc.default is not None else c.default,
                    generated=pc.generated if pc.generated is not None else c.generated,
                )
            cols.append(c)
        pchecks = {k.name: k for k in pt.checks}
        checks: list[Check] = [
            dataclasses.replace(k, expression=pchecks[k.name].expression)
            if k.name in pchecks
            else k
            for k in t.checks
        ]
        pexcl = {x.name: x.definition for x in pt.exclusions}
        exclusions = tuple(
            dataclasses.replace(x, definition=pexcl.get(x.name, x.definition)) for x in t.exclusions
        )
        tables[key] = dataclasses.replace(
            t,
            columns=tuple(cols),
            checks=tuple(checks),
            exclusions=exclusions,
            partition_by=pt.partition_by if t.partition_by else None,
            bound=pt.bound if t.bound and pt.bound else t.bound,
        )
    for (pschema, name), pix in probed.indexes.items():
        key = (back[pschema], name)
        ix: Index | None = indexes.get(key)
        if ix is not None:
            indexes[key] = dataclasses.replace(
                ix, elements=pix.elements, where=pix.where, method=pix.method
            )
    views = dict(desired.views)
    for (pschema, name), pv in probed.views.items():
        key = (back[pschema], name)
        if key in views:
            views[key] = dataclasses.replace(views[key], query=pv.query)
    return dataclasses.replace(desired, tables=tables, indexes=indexes, views=views)
