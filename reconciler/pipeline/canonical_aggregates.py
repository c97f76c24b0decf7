"""The server's spelling of changed aggregates, asked before comparing (see canonical.py).

Each aggregate that differs from the live one of its signature is created in a scratch schema
of its own, names resolved as the apply resolves them (a bare `int4pl` is pg_catalog's),
inside a transaction that is always rolled back, and read back whole: its argument list,
routines, types and conditions as the catalog holds them. One the server refuses keeps its
text and shows up as a change (the apply then says why).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.pg.aggregate import aggregate_sql
from reconciler.pipeline.probe import attempt, probing
from reconciler.sql.render import ident

if TYPE_CHECKING:
    import psycopg


def aggregates_to_probe(desired: PgSnapshot, live: PgSnapshot) -> list[tuple[str, str, str]]:
    return [k for k, a in desired.aggregates.items() if live.aggregates.get(k, a) != a]


def new_aggregates(desired: PgSnapshot, live: PgSnapshot) -> list[str]:
    """CREATE statements of the aggregates the plan adds, for the probe of routine bodies."""
    return [aggregate_sql(a) for k, a in desired.aggregates.items() if k not in live.aggregates]


def probe_aggregates(
    conn: psycopg.Connection, desired: PgSnapshot, todo: list[tuple[str, str, str]]
) -> PgSnapshot:
    from reconciler.introspect.pg.catalog import introspect  # deferred: start-up: psycopg

    scratches = [f"reconciler_probe_agg{i}" for i in range(len(todo))]
    with probing(conn):
        for scratch, key in zip(scratches, todo, strict=True):
            conn.execute(f"CREATE SCHEMA {ident(scratch)}")
            attempt(conn, aggregate_sql(desired.aggregates[key], schema=scratch))
        probed = introspect(conn, schemas=scratches)
    aggregates = dict(desired.aggregates)
    by_schema = {a.schema: a for a in probed.aggregates.values()}
    for scratch, key in zip(scratches, todo, strict=True):
        found = by_schema.get(scratch)
        if found is None:
            continue
        a = aggregates.pop(key)
        a = dataclasses.replace(found, schema=a.schema, comment=a.comment, source=a.source)
        aggregates[a.key] = a
    return dataclasses.replace(desired, aggregates=aggregates)
