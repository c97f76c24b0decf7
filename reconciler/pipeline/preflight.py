"""Before a plan is shown: what the server would refuse at apply, found while planning.

A plan is reviewed and then applied, often much later; a mistake that only the apply reveals
wastes the review and, under a phased apply, may leave half a change behind. So the planner
refuses, with the object's name and its file:line, every desired object that:
- names a type that neither the server nor the desired state defines (column, domain and
  composite attribute types, function arguments and results, with modifiers and arrays);
- calls a function that neither the server nor the desired state defines (defaults,
  generated columns, checks, index expressions, domain defaults and checks, policies,
  trigger conditions and trigger functions, view queries);
- adds a NOT NULL column without a default to a live table that holds rows;
- asks for an extension version the server does not have, or cannot reach from the installed
  one (no update script: most extensions ship no downgrades);
- holds SQL the server's own parser refuses, from a later PostgreSQL (parse_check.py);
- sets a default the server refuses when it analyses it: an aggregate, `'abc'` on an integer
  (default_check.py).
(View rings are pure desired state: validation refuses them, desired/views.py.)

Names are resolved as the apply resolves them (search_path `public`), inside a transaction
that is always rolled back, in which the extensions the desired state adds are created first
(they bring types and functions of their own). Should that be impossible, names left
unresolved are given the benefit of the doubt: this check must never refuse a sound plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from reconciler.connect import APPLY_SEARCH_PATH
from reconciler.diff.rebuilds import rebuilt_tables
from reconciler.errors import InputError, Problem
from reconciler.model.address import Address
from reconciler.model.names import make_object_name
from reconciler.model.pg import Column, Table
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.pipeline.default_check import defaults_to_try, refused_defaults, type_names
from reconciler.pipeline.parse_check import server_syntax, sql_texts
from reconciler.pipeline.trash import holding_rows
from reconciler.sql import names as sqlnames
from reconciler.sql.render import ident, literal


@dataclass(frozen=True, slots=True)
class Use:
    """One name the desired state refers to, and who refers to it."""

    what: str  # "column public.runs.count"
    name: str  # the type as written, or the function's (schema.)name
    source: str | None


def preflight(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot, changed: PgSnapshot
) -> None:
    """Raise InputError listing every object the apply would fail on (nothing otherwise);
    `changed` is changed_objects(desired, live)."""
    problems = server_syntax(conn, changed)
    problems += unknown_names(conn, desired, live, changed)
    problems += not_null_on_rows(conn, desired, live, changed)
    problems += extension_versions(conn, desired, live)
    _refuse(problems)


def _refuse(problems: list[Problem]) -> None:
    if not problems:
        return
    if len(problems) == 1:
        raise InputError(problems[0].message + ".", source=problems[0].source)
    raise InputError(
        f"{len(problems)} objects of the desired state would fail at apply.", problems=problems
    )


# Kinds whose SQL texts and type names the checks read (parse_check.sql_texts, type_uses).
_TEXT_KINDS = ("tables", "indexes", "domains", "composites", "functions", "policies", "triggers")
_TEXT_KINDS += ("views",)


def changed_objects(desired: PgSnapshot, live: PgSnapshot) -> PgSnapshot:
    """`desired` with only the objects of the kinds that hold SQL texts and type names that
    the server does not already hold as they are: what it printed itself, it parses and
    resolves (a no-op plan of 1,000 tables then asks nothing)."""
    return dataclasses.replace(
        desired,
        **{
            kind: {
                key: obj
                for key, obj in getattr(desired, kind).items()
                if getattr(live, kind).get(key) != obj
            }
            for kind in _TEXT_KINDS
        },
    )


# --- defaults the server analyses -----------------------------------------------------------------


def refuse_defaults(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot, changes: Iterable[Change]
) -> None:
    """Raise InputError listing the defaults the plan's `changes` set (its ordered changes,
    after preflight() passed: a targeted plan's are some) that the server refuses."""
    touched = {c.address for c in changes if c.address.engine == "pg"}
    if touched:
        _refuse(analysed_defaults(conn, desired, live, touched))


def analysed_defaults(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot, touched: set[Address]
) -> list[Problem]:
    """The defaults the changes at `touched` set that the server refuses
    (default_check.py); none tried when a pending extension cannot be created."""
    # an object as live holds it sets no default
    uses = defaults_to_try(changed_objects(desired, live), live, touched)
    if not uses:
        return []
    try:
        with _as_apply(conn, desired, live):
            return refused_defaults(conn, uses)
    except _Unsure:
        return []


# --- extension versions ----------------------------------------------------------------------


def extension_versions(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot
) -> list[Problem]:
    """Each desired extension version the server cannot install, or update to from the
    installed version (pg_available_extension_versions, pg_extension_update_paths)."""
    out = []
    for name, e in desired.extensions.items():
        have = live.extensions.get(name)
        if e.version is None or (have is not None and have.version == e.version):
            continue
        if have is None or have.version is None:
            query = (
                "SELECT EXISTS (SELECT FROM pg_catalog.pg_available_extension_versions "
                "WHERE name = %s AND version = %s)"
            )
            row = conn.execute(query, (name, e.version)).fetchone()
            if not (row and row[0]):
                out.append(
                    Problem(
                        f"extension {name} version {e.version} is not available on the server",
                        source=e.source,
                    )
                )
            continue
        query = (
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension_update_paths(%s) "
            "WHERE source = %s AND target = %s AND path IS NOT NULL)"
        )
        try:
            with conn.transaction():
                row = conn.execute(query, (name, have.version, e.version)).fetchone()
        except psycopg.Error:  # the extension's files are gone from the server
            row = (False,)
        if not (row and row[0]):
            out.append(
                Problem(
                    f"extension {name} cannot go from version {have.version} to {e.version}: "
                    "the extension ships no update script for that (a downgrade?)",
                    source=e.source,
                )
            )
    return out


# --- NOT NULL without a default on rows -----------------------------------------------------------


def not_null_on_rows(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot, changed: PgSnapshot
) -> list[Problem]:
    """New NOT NULL columns without a default (nor identity, nor generation) on live tables
    that hold rows: ADD COLUMN would have to fill them with NULL, which it refuses."""

    found = list(new_not_null_columns(desired, live, changed.tables.values()))
    if not found:
        return []
    held = holding_rows(conn, sorted({live_key for live_key, _, _ in found}))
    return [
        Problem(
            f"column {t.schema}.{t.name}.{c.name} is NOT NULL without a default, and table "
            f"{live_key[0]}.{live_key[1]} has rows: adding it would fail; give it a default, "
            "or add it nullable, fill it, then make it NOT NULL",
            source=c.source or t.source,
        )
        for live_key, t, c in found
        if live_key in held
    ]


def new_not_null_columns(
    desired: PgSnapshot, live: PgSnapshot, tables: Iterable[Table]
) -> Iterator[tuple[tuple[str, str], Table, Column]]:
    """(live table, desired table, column) for each column a plan adds to an existing table
    with NOT NULL and nothing to fill the existing rows with (a rebuilt table is created
    anew, its rows carried over: diff/rebuilds.py), among `tables` of the desired state
    (a table live holds as it is adds none)."""
    rebuilt = rebuilt_tables(desired, live)
    for t in tables:
        live_t = live.tables.get((t.schema, t.name))
        if live_t is None and t.renamed_from:
            live_t = live.tables.get((t.schema, t.renamed_from))
        if live_t is None or (t.schema, t.name) in rebuilt:
            continue
        for c in t.columns:
            if live_t.column(c.name) or (c.renamed_from and live_t.column(c.renamed_from)):
                continue
            if c.default is not None or c.identity or c.generated is not None:
                continue
            domain = _domain_of(c.type, desired, live)
            if domain is not None and domain.default is not None:
                continue  # the domain's default fills the rows
            if c.nullable and (domain is None or not domain.not_null):
                continue
            yield (live_t.schema, live_t.name), t, c


def _domain_of(type_: str, desired: PgSnapshot, live: PgSnapshot):
    names = type_names(type_)
    if names is None or type_.endswith("]"):
        return None
    key = (names[0], names[1]) if len(names) == 2 else (APPLY_SEARCH_PATH, names[0])
    return desired.domains.get(key) or live.domains.get(key)


# --- unknown types and functions ------------------------------------------------------------------


def type_uses(desired: PgSnapshot) -> Iterator[Use]:
    for t in desired.tables.values():
        for c in t.columns:
            yield Use(f"column {t.schema}.{t.name}.{c.name}", c.type, c.source or t.source)
    for d in desired.domains.values():
        yield Use(f"domain {d.schema}.{d.name}", d.type, d.source)
    for k in desired.composites.values():
        for attribute, type_, _ in k.attributes:
            yield Use(
                f"composite type {k.schema}.{k.name} (attribute {attribute})", type_, k.source
            )
    for f in desired.functions.values():
        for type_ in sqlnames.function_types(f):
            yield Use(f"{f.kind} {f.schema}.{f.name}", type_, f.source)


def call_uses(desired: PgSnapshot) -> Iterator[tuple[Use, tuple[str | None, str]]]:
    for t in sql_texts(desired):
        for name in sorted(sqlnames.calls(t.text, query=t.query) if t.text else (), key=str):
            yield Use(t.what, ".".join(n for n in name if n), t.source), name
    for tr in desired.triggers.values():
        called = sqlnames.called_name(tr.function)
        if called is not None:
            what = f"trigger {tr.name} of {tr.schema}.{tr.table}"
            yield Use(what, ".".join(n for n in called if n), tr.source), called


def unknown_names(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot, changed: PgSnapshot
) -> list[Problem]:
    """The types and functions the `changed` objects name that neither the server nor the
    desired state defines."""
    created_types = {
        *desired.enums,
        *desired.domains,
        *desired.composites,
        *desired.tables,  # a table's (or view's) row type is a type too
        *desired.views,
        *desired.sequences,
    }
    created_functions = {(f.schema, f.name) for f in desired.functions.values()}
    created_functions |= {(a.schema, a.name) for a in desired.aggregates.values()}
    types = [u for u in type_uses(changed) if not _declared(type_names(u.name), created_types)]
    # pg_catalog-qualified calls are left out: the parser writes them for special syntax
    # (EXTRACT, AT TIME ZONE, TRIM …), and which function stands behind it depends on the
    # server's version, not on anything the desired state could get wrong.
    calls = [
        (u, n)
        for u, n in call_uses(changed)
        if n[0] != "pg_catalog" and not _declared(n if n[0] else n[1:], created_functions)
    ]
    created_relations = _created_relations(desired)
    relations = [
        u for u in relation_uses(changed) if not _declared(type_names(u.name), created_relations)
    ]
    if not types and not calls and not relations:
        return []
    try:
        bad_types, bad_calls = _ask(conn, desired, live, types, calls, created_types)
        bad_relations = _ask_relations(conn, desired, live, relations)
    except _Unsure:
        return []
    out = [
        Problem(
            f"{u.what} has type {u.name}, which neither the database nor the desired state defines",
            source=u.source,
        )
        for u in bad_types
    ]
    out += [
        Problem(
            f"{u.what} calls function {u.name}(), which neither the database nor the desired "
            "state defines",
            source=u.source,
        )
        for u in bad_calls
    ]
    out += [
        Problem(
            f"{u.what} names relation {u.name!r}, which neither the database nor the desired "
            "state defines",
            source=u.source,
        )
        for u in bad_relations
    ]
    return out


def relation_uses(desired: PgSnapshot) -> Iterator[Use]:
    """Each relation a text names as a string (`nextval('s')`, `'t'::regclass`)."""
    for t in sql_texts(desired):
        for name in sorted(sqlnames.relation_literals(t.text, query=t.query)):
            yield Use(t.what, name, t.source)


def _created_relations(desired: PgSnapshot) -> set[tuple[str, str]]:
    """The relations the desired state has: tables, views, sequences, indexes, and the
    sequences its serial and identity columns own."""
    out = {*desired.tables, *desired.views, *desired.sequences, *desired.indexes}
    for t in desired.tables.values():
        for c in t.columns:
            if c.identity:
                out.add((t.schema, make_object_name(t.name, c.name, "seq")))
            names = type_names(c.sequence) if c.sequence else None
            if names:
                out.add((names[-2], names[-1]) if len(names) > 1 else (t.schema, names[-1]))
    return out


def _declared(names: Iterable[str | None] | None, created: set[tuple[str, str]]) -> bool:
    """Whether a (schema, name) or bare name means an object the desired state creates; a
    bare name is looked up where the apply's search_path looks (after pg_catalog)."""
    if names is None:
        return True  # not a plain name: nothing this check can say
    parts = tuple(n for n in names if n is not None)
    key = parts if len(parts) == 2 else (APPLY_SEARCH_PATH, parts[-1])
    return key in created


class _Unsure(Exception):
    """The server could not be asked (a pending extension cannot be tried, say)."""


_TYPES_SQL = """
SELECT q.i FROM unnest(%s::text[]) WITH ORDINALITY AS q(t, i)
WHERE to_regtype(q.t) IS NULL
"""
_CALLS_SQL = """
SELECT q.i FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS q(s, n, i)
WHERE NOT EXISTS (
    SELECT FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace ns ON ns.oid = p.pronamespace
    WHERE p.proname = q.n
      AND (ns.nspname = q.s OR (q.s = '' AND ns.nspname = ANY (current_schemas(true))))
) AND (q.s <> '' OR to_regtype(quote_ident(q.n)) IS NULL)  -- int4(x): a cast, not a call
"""


def _ask(
    conn: psycopg.Connection,
    desired: PgSnapshot,
    live: PgSnapshot,
    types: list[Use],
    calls: list[tuple[Use, tuple[str | None, str]]],
    created_types: set[tuple[str, str]],
) -> tuple[list[Use], list[Use]]:
    """The uses the server cannot resolve either, asked as the apply would resolve them."""
    with _as_apply(conn, desired, live):
        bad = _unresolved(conn, _TYPES_SQL, [(u.name,) for u in types])
        bad_types = [u for i, u in enumerate(types, 1) if i in bad]
        bad = _unresolved(conn, _CALLS_SQL, [(n[0] or "", n[1]) for _, n in calls])
        bad_calls = [
            u
            for i, (u, n) in enumerate(calls, 1)
            if i in bad and not (n[0] is None and _declared((n[1],), created_types))
        ]
    return bad_types, bad_calls


_RELATIONS_SQL = """
SELECT q.i FROM unnest(%s::text[]) WITH ORDINALITY AS q(t, i) WHERE to_regclass(q.t) IS NULL
"""


def _ask_relations(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot, relations: list[Use]
) -> list[Use]:
    """The relation names the server cannot resolve either (an improper one included)."""
    if not relations:
        return []
    with _as_apply(conn, desired, live):
        bad = _unresolved(conn, _RELATIONS_SQL, [(u.name,) for u in relations])
    return [u for i, u in enumerate(relations, 1) if i in bad]


@contextmanager
def _as_apply(conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot) -> Iterator[None]:
    """A transaction, always rolled back, that resolves names as the apply will: its
    search_path, and the extensions the plan creates (_Unsure when one cannot be)."""
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL lock_timeout = '2s'")
        conn.execute("SET LOCAL statement_timeout = '30s'")
        conn.execute(f"SET LOCAL search_path = {APPLY_SEARCH_PATH}")
        _add_pending_extensions(conn, desired, live)
        yield


def _unresolved(conn: psycopg.Connection, query: str, rows: list[tuple[str, ...]]) -> set[int]:
    """The 1-based positions of `rows` that `query` cannot resolve: one round trip, or one
    per row when the server refuses the batch (a text it cannot even parse is unresolved)."""
    distinct = sorted(set(rows))  # a thousand columns name a handful of types
    if not distinct:
        return set()

    def ask(part: list[tuple[str, ...]]) -> set[tuple[str, ...]]:
        with conn.transaction():  # a savepoint: a refusal leaves the transaction usable
            columns = tuple(list(c) for c in zip(*part, strict=True))
            return {part[i - 1] for (i,) in conn.execute(query, columns).fetchall()}

    try:
        bad = ask(distinct)
    except psycopg.Error:
        bad = set()
        for row in distinct:
            try:
                bad |= ask([row])
            except psycopg.Error:
                bad.add(row)
    return {i for i, row in enumerate(rows, 1) if row in bad}


def _add_pending_extensions(conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot):
    """The extensions the plan creates or updates, created or updated here (rolled back with
    the rest), so that their types and functions resolve as they will. One that cannot be
    leaves the check unsure."""
    for name, e in sorted(desired.extensions.items()):
        statements = []
        have = live.extensions.get(name)
        if have is not None:
            if e.version is not None and e.version != have.version:
                statements.append(f"ALTER EXTENSION {ident(name)} UPDATE TO {literal(e.version)}")
        else:
            if e.schema and e.schema not in live.schemas:
                statements.append(f"CREATE SCHEMA IF NOT EXISTS {ident(e.schema)}")
            schema = f" SCHEMA {ident(e.schema)}" if e.schema else ""
            version = f" VERSION {literal(e.version)}" if e.version else ""
            statements.append(
                f"CREATE EXTENSION IF NOT EXISTS {ident(e.name)}{schema}{version} CASCADE"
            )
        if not statements:
            continue
        try:
            with conn.transaction():
                for s in statements:
                    conn.execute(s)
        except psycopg.Error:
            raise _Unsure() from None
