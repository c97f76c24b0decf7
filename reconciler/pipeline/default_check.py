"""Defaults the server refuses only when it analyses them, found before a plan is shown.

A default can parse and name only known functions and still fail at apply: an aggregate
(`count(*)`), a set-returning function, `$1`, a value its column's type cannot read (`'abc'`
on an integer), a boolean on an integer column, a function called with arguments it does
not take (`lower(1)`), SQL/JSON syntax an older server reads as a call of a function it does
not have. The server says so when it creates the column, so each default the plan sets is
tried on it: as the default of a column of a table in a scratch schema, created inside a
transaction that is always rolled back, with the apply's search_path and the pending
extensions. A column the plan adds to a table that exists is added to an empty one, as the
apply adds it: Postgres then evaluates a default that is not volatile, once (`'abcd'` on a
varchar(3), `3000000000` on an integer, `1/0` fail there). (Not a temporary table: on a
server whose lock table is full to the brim, one made the next big transaction run out of
shared memory.)

What the plan itself changes is left alone, so that the check never refuses a sound plan: a
default whose type, casts or calls name a type or function the plan creates or changes (a
new enum label, a function whose result changes), or that names a relation (`nextval`, a
regclass literal: the plan may create it). Only the errors that say the text itself is
wrong refuse; any other (no CREATE on the database, a read-only server) leaves the
defaults untried, with a warning.

Owns: which defaults a plan sets, and trying them. Must not: evaluate a default other than
as the apply will (once, not volatile: nextval would consume values, even rolled back), or
keep anything it creates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.connect import APPLY_SEARCH_PATH
from reconciler.diff.rebuilds import rebuilt_tables
from reconciler.errors import Problem
from reconciler.model.address import Address
from reconciler.model.snapshot import PgSnapshot
from reconciler.sql import fragments as sqltext
from reconciler.sql import names as sqlnames
from reconciler.sql.render import ident

if TYPE_CHECKING:
    import psycopg

_log = logging.getLogger(__name__)

# The server's verdicts on the text itself: aggregates and GROUPING (42803), windows (42P20),
# set-returning functions, subqueries and column references (0A000), $n (42P02), a type
# mismatch (42804), no such function or cast for these arguments (42883, 42725, 42846), a
# type that cannot be told (42P18), a column reference (42703, 42P10), a value its type
# cannot read (class 22), a domain's check (23514). Not: a missing relation, type, schema or
# collation (42P01, 42704, 3F000 — the plan may create them), privileges, syntax (the parse
# check's, parse_check.py).
_REFUSING = frozenset(
    {"42803", "42P20", "0A000", "42P02", "42804", "42883", "42725", "42846", "42P18", "42703"}
    | {"42P10", "23514"}
)
# Functions that read a relation by name, and types whose values name objects: the plan
# may create what they name.
_NAMING_RELATIONS = frozenset({"nextval", "currval", "setval"})
_NAMING_TYPES = frozenset(
    {"regclass", "regcollation", "regconfig", "regdictionary", "regnamespace", "regoper"}
    | {"regoperator", "regproc", "regprocedure", "regrole", "regtype"}
)
_BATCH = 1000  # columns per table (a table holds at most 1,600)
# probe.py's scratch schemas are reconciler_probe_<n>; this one is named after the session, so
# that plans running at once never wait on each other's (uncommitted) one.
_SCHEMA = "reconciler_probe_defaults_{pid}"
_MISSES = 8  # refusals found a statement at a time, before trying each default on its own


@dataclass(frozen=True, slots=True)
class DefaultUse:
    """One default the plan sets, the type it is read as, and who holds it."""

    what: str  # "the default of column public.runs.count"
    name: str  # the column's (or the domain's) name
    type: str  # the column's type, or the domain's base type
    text: str
    source: str | None
    # ADD COLUMN to a table that exists: Postgres evaluates a default that is not volatile
    # there, once, for the rows it has (a CREATE or a SET DEFAULT only analyses it)
    added: bool = False


def defaults_to_try(
    desired: PgSnapshot, live: PgSnapshot, touched: set[Address]
) -> list[DefaultUse]:
    """The defaults the plan sets (new tables and columns, changed defaults and types, new
    and changed domain defaults) through the changes at `touched` (a targeted plan makes only
    some), that lean on nothing the plan creates or changes."""
    uses = list(_set_defaults(desired, live, touched))
    if not uses:  # a plan that sets no default (no changes at all, say) compares nothing more
        return []
    types = _changed(desired.enums, live.enums) | _changed(desired.domains, live.domains)
    types |= _changed(desired.composites, live.composites) | _changed(desired.tables, live.tables)
    types |= _changed(desired.views, live.views) | _changed(desired.sequences, live.sequences)
    types = _built_on(types, desired, live)
    functions = {
        (f.schema, f.name)
        for kind, live_kind in (
            (desired.functions, live.functions),
            (desired.aggregates, live.aggregates),
        )
        for key, f in kind.items()
        if live_kind.get(key) != f
    }
    leaning: dict[tuple[str, str], bool] = {}  # 5,000 new tables hold a handful of defaults
    for u in uses:
        if (u.type, u.text) not in leaning:
            leaning[u.type, u.text] = _leans_on_plan(u, types, functions)
    return [u for u in uses if not leaning[u.type, u.text]]


def _built_on(
    types: set[tuple[str, str]], desired: PgSnapshot, live: PgSnapshot
) -> set[tuple[str, str]]:
    """`types` and every type built on one of them, on either side: a domain over it (or over
    its array), a composite type or a table with an attribute of it. A value of a domain over
    an enum the plan extends is read by that enum's new labels too."""
    texts: dict[tuple[str, str], set[str]] = {}
    for snap in (live, desired):
        for key, d in snap.domains.items():
            texts.setdefault(key, set()).add(d.type)
        for key, k in snap.composites.items():
            texts.setdefault(key, set()).update(type_ for _, type_, _ in k.attributes)
        for key, t in snap.tables.items():
            texts.setdefault(key, set()).update(c.type for c in t.columns)
    parsed = {text: type_names(text) for used in texts.values() for text in used}
    on = {key: {_key(n) for n in map(parsed.get, used) if n} for key, used in texts.items()}
    out = set(types)
    grew = True
    while grew:
        grew = False
        for key, used in on.items():
            if key not in out and not used.isdisjoint(out):
                out.add(key)
                grew = True
    return out


def type_names(text: str) -> tuple[str, ...] | None:
    """The names of a type (or relation) as written (sql/fragments.type_names); None when the
    text is not a plain name, which a check then gives the benefit of the doubt."""
    try:
        return sqltext.type_names(text)
    except sqltext.SqlTextError:
        return None


def _changed(desired: dict, live: dict) -> set[tuple[str, str]]:
    return {key[:2] for key, obj in desired.items() if live.get(key) != obj}


def _set_defaults(
    desired: PgSnapshot, live: PgSnapshot, touched: set[Address]
) -> Iterator[DefaultUse]:
    """The defaults the changes at `touched` set: their tables' (all of a table made anew),
    their columns', their domains'."""
    tables = {a.parts[2:4] for a in touched if a.kind == "table"}
    columns = {a.parts[2:5] for a in touched if a.kind == "column"}
    domains = {a.parts[2:4] for a in touched if a.kind == "domain"}
    with_columns = {key[:2] for key in columns}
    rebuilt = rebuilt_tables(desired, live)  # made anew, as a table the plan creates is
    for t in desired.tables.values():
        whole = (t.schema, t.name) in tables
        if not whole and (t.schema, t.name) not in with_columns:
            continue
        live_t = live.tables.get((t.schema, t.name))
        if live_t is None and t.renamed_from:
            live_t = live.tables.get((t.schema, t.renamed_from))
        for c in t.columns:
            if c.default is None or not (whole or (t.schema, t.name, c.name) in columns):
                continue
            lc = None
            if live_t is not None:
                lc = live_t.column(c.name) or (
                    live_t.column(c.renamed_from) if c.renamed_from else None
                )
            if lc is None or (lc.default, lc.type) != (c.default, c.type):
                where = f"column {t.schema}.{t.name}.{c.name}"
                source = c.source or t.source
                added = live_t is not None and lc is None and (t.schema, t.name) not in rebuilt
                yield DefaultUse(
                    f"the default of {where}", c.name, c.type, c.default, source, added
                )
    for key, d in desired.domains.items():
        if key not in domains:
            continue
        live_d = live.domains.get(key)
        if d.default is not None and (
            live_d is None or (live_d.default, live_d.type) != (d.default, d.type)
        ):
            what = f"the default of domain {d.schema}.{d.name}"
            yield DefaultUse(what, d.name, d.type, d.default, d.source)


def _leans_on_plan(
    use: DefaultUse, types: set[tuple[str, str]], functions: set[tuple[str, str]]
) -> bool:
    own = type_names(use.type)
    if own is None:
        return True  # not a plain type name: nothing this check can say
    named = [own]
    named += sqlnames.cast_types(use.text)
    if any(names[-1] in _NAMING_TYPES or _key(names) in types for names in named):
        return True
    for schema, name in sqlnames.calls(use.text):
        if name in _NAMING_RELATIONS or _key((schema, name) if schema else (name,)) in functions:
            return True
    return False


def _key(names: tuple[str | None, ...]) -> tuple[str | None, str]:
    """(schema, name) as the apply resolves it: a bare name where its search_path looks."""
    return (names[-2], names[-1]) if len(names) > 1 else (APPLY_SEARCH_PATH, names[-1])


def refused_defaults(conn: psycopg.Connection, uses: list[DefaultUse]) -> list[Problem]:
    """Each default the server refuses as the default of a column of its type. Runs inside
    the caller's transaction (rolled back), each attempt behind a savepoint."""
    import psycopg  # deferred: start-up: psycopg

    held: dict[_Try, list[DefaultUse]] = {}
    for u in uses:
        held.setdefault((u.type, u.text, u.added), []).append(u)
    refused: dict[_Try, str] = {}
    try:
        try:
            with conn.transaction():  # a savepoint, kept: the tables go in it
                conn.execute(f"CREATE SCHEMA {ident(_schema(conn))}")
        except psycopg.Error as exc:
            raise _CannotTry(_message(exc)) from None
        for added in (False, True):
            tries = [key for key in held if key[2] is added]
            for start in range(0, len(tries), _BATCH):
                _try_batch(conn, tries[start : start + _BATCH], held, refused)
    except _CannotTry as exc:
        _log.warning(
            "The server could not be asked to analyse the defaults the plan sets (%s): a "
            "default it refuses fails at apply instead, which rolls back.",
            exc,
        )
        return []
    return [
        Problem(f"{u.what} would fail at apply: {message}", source=u.source)
        for key, message in refused.items()
        for u in held[key]
    ]


class _CannotTry(Exception):
    """The attempt failed for a reason that is not a default's (no CREATE, read-only …)."""


_Try = tuple[str, str, bool]  # (type, default, added): tried once for all who hold it


def _try_batch(
    conn: psycopg.Connection,
    tries: list[_Try],
    held: dict[_Try, list[DefaultUse]],
    refused: dict[_Try, str],
) -> None:
    """`tries`, all added or all created, in one statement, refusals taken out one by one."""
    import psycopg  # deferred: start-up: psycopg

    todo = list(tries)
    for _ in range(_MISSES):
        if not todo:
            return
        columns = [(f"c{i}", type_, text) for i, (type_, text, _) in enumerate(todo, 1)]
        statements, spans = _table(_schema(conn), columns, added=todo[0][2])
        try:
            _run(conn, statements)
            return
        except psycopg.Error as exc:
            at = _position(exc)
            found = next((i for i, (a, b) in enumerate(spans) if a <= at < b), None)
            if found is None:
                if _refusing(exc):
                    break  # a refusal the server does not place (42804): each on its own
                raise _CannotTry(_message(exc)) from None
            key = todo.pop(found)
            if _refusing(exc):
                refused[key] = _message(exc)
    for key in todo:
        column = (held[key][0].name, key[0], key[1])
        statements, _ = _table(_schema(conn), [column], added=key[2])
        try:
            _run(conn, statements)
        except psycopg.Error as exc:
            if _refusing(exc):
                refused[key] = _message(exc)


def _run(conn: psycopg.Connection, statements: list[str]) -> None:
    with conn.transaction(force_rollback=True):  # a savepoint: the next attempt starts clean
        for statement in statements:
            conn.execute(statement)


def _schema(conn: psycopg.Connection) -> str:
    return _SCHEMA.format(pid=conn.info.backend_pid)


def _table(
    schema: str, columns: Iterable[tuple[str, str, str]], *, added: bool
) -> tuple[list[str], list[tuple[int, int]]]:
    """The statements making a table with a column per (name, type, default): a CREATE TABLE
    holding them, or (`added`) a bare table, then one ALTER TABLE adding them; and where each
    column's definition stands in the last statement ([start, end) offsets, in characters)."""
    if added:
        table = ident(schema, "added")
        out, head = [f"ALTER TABLE {table}"], [f"CREATE TABLE {table} ()"]
    else:
        out, head = [f"CREATE TABLE {ident(schema, 'created')} ("], []
    at = len(out[0])
    spans = []
    for i, (name, type_, text) in enumerate(columns):
        add = "ADD COLUMN " if added else ""
        column = f"{',' if i else ''}\n{add}{ident(name)} {type_} DEFAULT (\n{text}\n)"
        spans.append((at, at + len(column)))
        out.append(column)
        at += len(column)
    if not added:
        out.append("\n)")
    return [*head, "".join(out)], spans


def _position(exc: psycopg.Error) -> int:
    try:
        return int(exc.diag.statement_position or "") - 1  # 1-based, in characters
    except ValueError:
        return -1


def _refusing(exc: psycopg.Error) -> bool:
    state = exc.sqlstate or ""
    return state in _REFUSING or state.startswith("22")


def _message(exc: psycopg.Error) -> str:
    return " ".join(str(exc.diag.message_primary or exc).split())
