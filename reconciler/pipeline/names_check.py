"""Names the desired state uses that neither the server nor the desired state defines: a
type (column, domain and composite attribute types, function arguments and results), a
function an expression, a view or a trigger calls, a relation a text names as a string
(`nextval('s')`, `'t'::regclass`). Part of the preflight (preflight.py).

Names are resolved as the apply resolves them (search_path `public`), inside a transaction
that is always rolled back, in which the extensions the desired state adds or updates are
created or updated first (`as_apply`, which default_check's tries run in too). Should that
be impossible, names left unresolved are given the benefit of the doubt (`Unsure`): this
check must never refuse a sound plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.connect import APPLY_SEARCH_PATH
from reconciler.errors import Problem
from reconciler.model.names import make_object_name
from reconciler.model.snapshot import PgSnapshot
from reconciler.pipeline.default_check import type_names
from reconciler.pipeline.parse_check import sql_texts
from reconciler.sql import names as sqlnames
from reconciler.sql.render import ident, literal

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True, slots=True)
class Use:
    """One name the desired state refers to, and who refers to it."""

    what: str  # "column public.runs.count"
    name: str  # the type as written, or the function's (schema.)name
    source: str | None


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
    except Unsure:
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


class Unsure(Exception):
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
    with as_apply(conn, desired, live):
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
    with as_apply(conn, desired, live):
        bad = _unresolved(conn, _RELATIONS_SQL, [(u.name,) for u in relations])
    return [u for i, u in enumerate(relations, 1) if i in bad]


@contextmanager
def as_apply(conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot) -> Iterator[None]:
    """A transaction, always rolled back, that resolves names as the apply will: its
    search_path, and the extensions the plan creates (Unsure when one cannot be)."""
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL lock_timeout = '2s'")
        conn.execute("SET LOCAL statement_timeout = '30s'")
        conn.execute(f"SET LOCAL search_path = {APPLY_SEARCH_PATH}")
        _add_pending_extensions(conn, desired, live)
        yield


def _unresolved(conn: psycopg.Connection, query: str, rows: list[tuple[str, ...]]) -> set[int]:
    """The 1-based positions of `rows` that `query` cannot resolve: one round trip, or one
    per row when the server refuses the batch (a text it cannot even parse is unresolved)."""
    import psycopg  # deferred: start-up: psycopg

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
    import psycopg  # deferred: start-up: psycopg

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
            raise Unsure() from None
