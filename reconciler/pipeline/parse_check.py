"""SQL newer than the server: each expression and view query of the desired state parsed by
the server's own parser before a plan is shown (preflight.py refuses what it rejects).

The files are checked when they are loaded, with the grammar of pglast's PostgreSQL; an older
server may not read a text that grammar reads (`1_000` and `0x1F` are numbers from PostgreSQL
16 on), and the apply would fail on it after the plan was reviewed.

Owns: the list of the desired state's SQL texts (`sql_texts`, also what preflight.py looks for
unknown calls in) and the parse check. Must not: run, resolve or keep anything it asks the
server to parse.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pglast.parser import get_postgresql_version

from reconciler.errors import Problem
from reconciler.model.snapshot import PgSnapshot

if TYPE_CHECKING:
    import psycopg

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SqlText:
    """One SQL text of the desired state the server parses at apply, and who holds it."""

    what: str  # "the default of column public.runs.count"
    text: str
    source: str | None
    query: bool = False  # a whole query (a view's), not an expression


def sql_texts(desired: PgSnapshot) -> Iterator[SqlText]:
    """Every expression and view query of the desired state, in the order of its objects."""
    for t in desired.tables.values():
        for c in t.columns:
            where = f"column {t.schema}.{t.name}.{c.name}"
            if c.default is not None:
                yield SqlText(f"the default of {where}", c.default, c.source or t.source)
            if c.generated is not None:
                yield SqlText(f"generated {where}", c.generated, c.source or t.source)
        for k in t.checks:
            yield SqlText(f"check {k.name} of {t.schema}.{t.name}", k.expression, k.source)
    for ix in desired.indexes.values():
        what = f"index {ix.schema}.{ix.name}"
        for e in ix.elements:
            if e.expression is not None:
                yield SqlText(what, e.expression, ix.source)
        if ix.where is not None:
            yield SqlText(what, ix.where, ix.source)
    for d in desired.domains.values():
        if d.default is not None:
            yield SqlText(f"domain {d.schema}.{d.name}", d.default, d.source)
        for k in d.checks:
            yield SqlText(f"domain {d.schema}.{d.name}", k.expression, k.source or d.source)
    for p in desired.policies.values():
        what = f"policy {p.name} of {p.schema}.{p.table}"
        for text in (p.using, p.check):
            if text is not None:
                yield SqlText(what, text, p.source)
    for tr in desired.triggers.values():
        if tr.when is not None:
            yield SqlText(f"trigger {tr.name} of {tr.schema}.{tr.table}", tr.when, tr.source)
    for v in desired.views.values():
        kind = "materialized view" if v.materialized else "view"
        yield SqlText(f"{kind} {v.schema}.{v.name}", v.query, v.source, query=True)


# The files' SQL is checked when they are loaded by pglast, whose parser is PostgreSQL's of
# this major version: a server as new has the same grammar, an older one may refuse a text
# (1_000 and 0x1F are numbers from PostgreSQL 16 on, JSON_TABLE from 17 on) at apply.
_PARSER_MAJOR = get_postgresql_version()[0]


def server_syntax(conn: psycopg.Connection, desired: PgSnapshot) -> list[Problem]:
    """Each expression or view query the server's own parser refuses, asked of it without
    running, resolving or creating anything that outlives the check: the texts are the body
    of a PL/pgSQL function, which the server parses (and only parses) as it creates it, in
    pg_temp, in a transaction that is always rolled back. A server that cannot be asked
    that way (no PL/pgSQL, no temporary objects allowed) gives the benefit of the doubt."""
    texts: dict[tuple[str, bool], list[SqlText]] = {}
    for t in sql_texts(desired):
        texts.setdefault((t.text, t.query), []).append(t)
    pending = list(texts)
    if not pending or conn.info.server_version // 10000 >= _PARSER_MAJOR:
        return []  # (nothing asked of the server when there is nothing to check)
    import psycopg  # deferred: start-up: psycopg

    refused: list[tuple[tuple[str, bool], str]] = []
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL check_function_bodies = on")
        conn.execute("SET LOCAL statement_timeout = '30s'")
        while pending:
            statement, spans = _parse_only(pending)
            try:
                with conn.transaction():  # a savepoint: the next round starts clean
                    conn.execute(statement)
                break
            except psycopg.Error as exc:
                found = _refused_text(exc, spans)
                if found is None:  # not a text's syntax: no PL/pgSQL, no TEMP, read-only …
                    _log.warning(
                        "The server could not be asked to parse the files' SQL before the "
                        "apply (%s): a text only a later PostgreSQL reads fails at apply "
                        "instead, which rolls back.",
                        " ".join(str(exc.diag.message_primary or exc).split()),
                    )
                    break
                refused.append(
                    (pending.pop(found), " ".join(str(exc.diag.message_primary).split()))
                )
    version = (conn.info.parameter_status("server_version") or "").split(" ", 1)[0]
    return [
        Problem(
            f"{use.what} is not valid SQL on this server (PostgreSQL {version}): {message} "
            "(syntax of a later PostgreSQL?)",
            source=use.source,
        )
        for key, message in refused
        for use in texts[key]
    ]


def _parse_only(pending: list[tuple[str, bool]]) -> tuple[str, list[tuple[int, int]]]:
    """CREATE FUNCTION of a PL/pgSQL function reading each text once, and where each text
    stands in that statement ([start, end) offsets, in characters)."""
    tag = "$reconciler_parse$"
    while any(tag in text for text, _ in pending):
        tag = tag[:-1] + "_$"
    out = [
        "CREATE FUNCTION pg_temp.reconciler_parse_only() RETURNS void LANGUAGE plpgsql AS "
        f"{tag}\nBEGIN\n"
    ]
    at = len(out[0])
    spans = []
    for text, query in pending:
        head = "PERFORM FROM (\n" if query else "PERFORM (\n"
        tail = "\n) AS q;\n" if query else "\n);\n"
        spans.append((at + len(head), at + len(head) + len(text)))
        out.append(head + text + tail)
        at += len(head) + len(text) + len(tail)
    out.append(f"END\n{tag}")
    return "".join(out), spans


def _refused_text(exc: psycopg.Error, spans: list[tuple[int, int]]) -> int | None:
    """The index of the text a syntax error points into, or None."""
    if exc.sqlstate is None or not exc.sqlstate.startswith(("42601", "22")):
        return None  # 42601 syntax_error; class 22: a malformed literal the lexer refuses
    try:
        at = int(exc.diag.statement_position or "") - 1  # 1-based, in characters
    except ValueError:
        return None
    return next((i for i, (start, end) in enumerate(spans) if start <= at <= end), None)
