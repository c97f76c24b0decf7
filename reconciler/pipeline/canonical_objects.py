"""The server's spelling of functions, triggers, policies, views, domains and collations.

Owns: the probes canonical.py runs for objects other than tables' own columns and checks: each
kind is created in a scratch schema (probe.py) and read back with the same introspection queries.

Must not: commit, or decide what a difference means (that is diff/).
"""

from __future__ import annotations

import dataclasses

import psycopg

from reconciler.introspect.pg.catalog import introspect
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.pg.function import function_sql
from reconciler.ops.pg.policy import policy_sql
from reconciler.ops.pg.trigger import trigger_sql
from reconciler.ops.pg.types import CreateCollation, CreateDomain
from reconciler.ops.pg.view import create_view_sql
from reconciler.pipeline.canonical_aggregates import new_aggregates
from reconciler.pipeline.probe import attempt, probe_table_sql, probing
from reconciler.sql.render import ident


def probe_functions(
    conn: psycopg.Connection,
    desired: PgSnapshot,
    live: PgSnapshot,
    todo: list[tuple[str, str, str]],
) -> PgSnapshot:
    """The server's spelling of each function's argument types (what names it), arguments,
    result, settings and SQL-standard body, and what it uses (pg_depend): each is created
    in a scratch schema of its own, names resolved as the apply resolves them.

    An SQL-standard body is bound at creation to the routines, tables and views it names, so
    those must exist: the ones the plan creates are first made under their own names (in
    their schemas, made too when new; tables with their columns only), each once what it
    needs is there; the copies then bind to them exactly as the applied ones will,
    and name them in what they use."""
    with probing(conn):
        conn.execute("SET LOCAL check_function_bodies = off")
        for schema in sorted(set(desired.schemas) - set(live.schemas)):
            attempt(conn, f"CREATE SCHEMA IF NOT EXISTS {ident(schema)}")
        pending = _new_relations(desired, live)
        pending += [function_sql(desired.functions[k]) for k in todo if k not in live.functions]
        pending += new_aggregates(desired, live)  # a new body may call one
        while pending:
            left = [statement for statement in pending if not attempt(conn, statement)]
            if len(left) == len(pending):
                break
            pending = left
        # each copy keeps its name (a body may name its parameters by it: `f.arg`), in a
        # scratch schema of its own, which says which desired routine it is
        scratches = [f"reconciler_probe_fn{i}" for i in range(len(todo))]
        for scratch, key in zip(scratches, todo, strict=True):
            conn.execute(f"CREATE SCHEMA {ident(scratch)}")
            attempt(conn, function_sql(desired.functions[key], schema=scratch))
        probed = introspect(conn, schemas=scratches)
    functions = dict(desired.functions)
    grants = dict(desired.grants)
    by_schema = {pf.schema: pf for pf in probed.functions.values()}
    for scratch, key in zip(scratches, todo, strict=True):
        pf = by_schema.get(scratch)
        if pf is None:
            continue  # the server refused it: its text stays, the apply will say why
        f = functions.pop(key)
        f = dataclasses.replace(
            f,
            types=pf.types,
            arguments=pf.arguments,
            returns=pf.returns,
            config=pf.config,
            body=pf.body if f.sql_body and pf.sql_body else f.body,
            uses=pf.uses,
        )
        functions[(f.schema, f.name, f.types)] = f
        # its grants name it by its argument types too
        old_name, new_name = f"{key[1]}({key[2]})", f"{f.name}({f.types})"
        for gkey, g in list(grants.items()):
            if g.on == "function" and (g.schema, g.name) == (key[0], old_name):
                del grants[gkey]
                g = dataclasses.replace(g, name=new_name)
                grants[g.key] = g
    return dataclasses.replace(desired, functions=functions, grants=grants)


def _new_relations(desired: PgSnapshot, live: PgSnapshot) -> list[str]:
    """CREATE statements for the tables (columns only) and views the plan adds, under their
    own names: what a new SQL-standard body reads must exist for it to be created."""
    out = []
    for key, t in desired.tables.items():
        if key in live.tables or t.renamed_from or t.partition_of is not None:
            continue
        columns = tuple(
            dataclasses.replace(c, default=None, generated=None, identity=None) for c in t.columns
        )
        bare = dataclasses.replace(
            t, columns=columns, checks=(), exclusions=(), partition_by=None, bound=None
        )
        out.append(probe_table_sql(t.schema, bare))
    out += [
        create_view_sql(v, with_data=False)
        for key, v in desired.views.items()
        if key not in live.views
    ]
    return out


def probe_table_objects(
    conn: psycopg.Connection,
    desired: PgSnapshot,
    trigger_keys: list[tuple[str, str, str]],
    policy_keys: list[tuple[str, str, str]],
) -> PgSnapshot:
    """The server's text of trigger WHEN conditions and policy expressions (it adds casts):
    each is created on a column-only copy of its table in a scratch schema."""
    scratch = "reconciler_probe_tbl"
    copies: dict[tuple[str, str], str] = {}  # real table → its copy ("" when it failed)
    with probing(conn):
        conn.execute(f"CREATE SCHEMA {ident(scratch)}")

        def copy_of(schema: str, name: str) -> str:
            if (schema, name) not in copies:
                table, copy = desired.tables.get((schema, name)), f"t{len(copies)}"
                ok = False
                if table is not None:
                    columns = tuple(
                        dataclasses.replace(c, default=None, generated=None) for c in table.columns
                    )
                    bare = dataclasses.replace(
                        table, name=copy, columns=columns, checks=(), exclusions=()
                    )
                    ok = attempt(conn, probe_table_sql(scratch, bare))
                copies[(schema, name)] = copy if ok else ""
            return copies[(schema, name)]

        for key in trigger_keys:
            t = desired.triggers[key]
            if copy := copy_of(t.schema, t.table):
                attempt(conn, trigger_sql(dataclasses.replace(t, table=copy), schema=scratch))
        for key in policy_keys:
            p = desired.policies[key]
            if copy := copy_of(p.schema, p.table):
                attempt(conn, policy_sql(p, schema=scratch, table=copy))
        probed = introspect(conn, schemas=[scratch])
    triggers, policies = dict(desired.triggers), dict(desired.policies)
    for key in trigger_keys:
        found = probed.triggers.get((scratch, copies.get(key[:2], ""), key[2]))
        if found is not None:
            triggers[key] = dataclasses.replace(triggers[key], when=found.when)
    for key in policy_keys:
        found = probed.policies.get((scratch, copies.get(key[:2], ""), key[2]))
        if found is not None:
            policies[key] = dataclasses.replace(policies[key], using=found.using, check=found.check)
    return dataclasses.replace(desired, triggers=triggers, policies=policies)


def probe_domains(
    conn: psycopg.Connection, desired: PgSnapshot, todo: list[tuple[str, str]]
) -> PgSnapshot:
    """The server's text of each changed domain's default and checks."""
    scratch = "reconciler_probe_dom"
    with probing(conn):
        conn.execute(f"CREATE SCHEMA {ident(scratch)}")
        for i, key in enumerate(todo):
            d = dataclasses.replace(desired.domains[key], schema=scratch, name=f"d{i}")
            for statement in CreateDomain(d).statements():
                if not attempt(conn, statement.sql):
                    break
        probed = introspect(conn, schemas=[scratch])
    domains = dict(desired.domains)
    for i, key in enumerate(todo):
        found = probed.domains.get((scratch, f"d{i}"))
        if found is None:
            continue
        d = domains[key]
        texts = {k.name: k.expression for k in found.checks}
        checks = tuple(
            dataclasses.replace(k, expression=texts.get(k.name, k.expression)) for k in d.checks
        )
        domains[key] = dataclasses.replace(
            d, type=found.type, default=found.default, collation=found.collation, checks=checks
        )
    return dataclasses.replace(desired, domains=domains)


def probe_collations(
    conn: psycopg.Connection, desired: PgSnapshot, todo: list[tuple[str, str]]
) -> PgSnapshot:
    """Each changed collation's locale as the server keeps it (from PostgreSQL 16 on, an ICU
    locale is stored as its language tag: `en_US` → `en-US`)."""
    scratch = "reconciler_probe_coll"
    with probing(conn):
        conn.execute(f"CREATE SCHEMA {ident(scratch)}")
        for i, key in enumerate(todo):
            c = dataclasses.replace(desired.collations[key], schema=scratch, name=f"c{i}")
            attempt(conn, CreateCollation(c).statements()[0].sql)
        probed = introspect(conn, schemas=[scratch])
    collations = dict(desired.collations)
    for i, key in enumerate(todo):
        found = probed.collations.get((scratch, f"c{i}"))
        if found is not None:
            collations[key] = dataclasses.replace(
                found,
                schema=key[0],
                name=key[1],
                comment=collations[key].comment,
                source=collations[key].source,
            )
    return dataclasses.replace(desired, collations=collations)
