"""The server's spelling of changed rules, asked before comparing (see canonical.py).

Each rule whose condition or commands differ from the live one's is created on a copy of its
table (columns only) or view in a scratch schema, inside a transaction that is always rolled
back, and read back. The commands name the real relations, so the copy's rule binds to exactly
what the real one will and prints exactly as it will. No existing table is locked; a rule the
server refuses keeps its text and shows up as a change (the apply then says why).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.pg.rule import rule_sql
from reconciler.ops.pg.view import create_view_sql
from reconciler.pipeline.probe import attempt, probe_table_sql, probing, with_inherited
from reconciler.sql.render import ident

if TYPE_CHECKING:
    import psycopg

_SCRATCH = "reconciler_probe_rule"


def rules_to_probe(desired: PgSnapshot, live: PgSnapshot) -> list[tuple[str, str, str]]:
    """Keys of the rules on both sides whose texts differ."""
    out = []
    for key, r in desired.rules.items():
        old = live.rules.get(key)
        if old is not None and (old.where, old.actions) != (r.where, r.actions):
            out.append(key)
    return out


def probe_rules(
    conn: psycopg.Connection, desired: PgSnapshot, todo: list[tuple[str, str, str]]
) -> PgSnapshot:
    from reconciler.introspect.pg.catalog import introspect  # deferred: start-up: psycopg

    copies: dict[tuple[str, str], str] = {}  # real relation → its copy ("" when it failed)
    with probing(conn):
        conn.execute(f"CREATE SCHEMA {ident(_SCRATCH)}")

        def copy_of(schema: str, name: str) -> str:
            if (schema, name) in copies:
                return copies[(schema, name)]
            copy, ok = f"r{len(copies)}", False
            table, view = desired.tables.get((schema, name)), desired.views.get((schema, name))
            if table is not None:
                columns = tuple(
                    dataclasses.replace(c, default=None, generated=None, identity=None)
                    for c in with_inherited(desired, table).columns
                )
                bare = dataclasses.replace(
                    table,
                    name=copy,
                    columns=columns,
                    checks=(),
                    exclusions=(),
                    partition_by=None,
                    partition_of=None,
                    bound=None,
                )
                ok = attempt(conn, probe_table_sql(_SCRATCH, bare))
            elif view is not None and not view.materialized:
                copied = dataclasses.replace(view, schema=_SCRATCH, name=copy)
                ok = attempt(conn, create_view_sql(copied, with_data=False))
            copies[(schema, name)] = copy if ok else ""
            return copies[(schema, name)]

        for key in todo:
            r = desired.rules[key]
            if copy := copy_of(r.schema, r.table):
                attempt(conn, rule_sql(r, schema=_SCRATCH, table=copy))
        probed = introspect(conn, schemas=[_SCRATCH])
    rules = dict(desired.rules)
    for key in todo:
        found = probed.rules.get((_SCRATCH, copies.get(key[:2], ""), key[2]))
        if found is not None:
            rules[key] = dataclasses.replace(rules[key], where=found.where, actions=found.actions)
    return dataclasses.replace(desired, rules=rules)
