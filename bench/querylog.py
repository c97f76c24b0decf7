"""Statements a command sent, counted from the server log (log_statement = 'all').

start_postgres takes no extra server options, so shared_preload_libraries (and with it
pg_stat_statements) is not available to the bench. Instead the database being measured gets
`ALTER DATABASE … SET log_statement = 'all'`, and its entries are read back from server.log:
one entry per simple query or extended-protocol execute, i.e. per statement the server ran.

A statement is a catalog query when it reads at least one relation of pg_catalog (a name
the server lists there, qualified or not) or of information_schema (qualified, since names
like `tables` or `columns` are common CTE names). Comments and string literals are ignored,
so `'pg_catalog.pg_class'::regclass` alone does not count.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

_ENTRY = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] db=(\S*) ([A-Z]+):  (.*)$")
_STATEMENT = re.compile(r"^(?:statement|execute [^:]*): (.*)$", re.DOTALL)
_COMMENT_OR_LITERAL = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)
_WORD = re.compile(r"\b[a-z_][a-z0-9_]*\b")
_TXN = re.compile(r"^\s*(BEGIN|START|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)
_SETTING = re.compile(r"^\s*(SET|RESET|SHOW)\b|\bset_config\s*\(", re.IGNORECASE)

CATALOG_RELATIONS_SQL = """
SELECT c.relname::text
FROM pg_catalog.pg_class AS c
WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
"""
_INFORMATION_SCHEMA = re.compile(r'\binformation_schema\s*\.\s*"?([a-z_]+)')


@dataclass(slots=True)
class QueryCount:
    total: int = 0
    catalog: int = 0
    other: int = 0
    kinds: Counter = field(default_factory=Counter)  # catalog / transaction / settings / other
    relations: Counter = field(default_factory=Counter)  # catalog relation → statements reading it
    statements: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "catalog": self.catalog,
            "other": self.other,
            "by_kind": dict(self.kinds),
            "catalog_relations": dict(self.relations.most_common()),
            "statements": self.statements,
        }


def _entries(log_text: str, dbname: str) -> list[str]:
    """Messages of `dbname` that are statements, with their continuation lines joined."""
    messages: list[tuple[str, str, str]] = []  # (db, level, text)
    for line in log_text.splitlines():
        m = _ENTRY.match(line)
        if m:
            messages.append((m.group(2), m.group(3), m.group(4)))
        elif messages:
            db, level, text = messages[-1]
            messages[-1] = (db, level, f"{text}\n{line.removeprefix(chr(9))}")
    out = []
    for db, level, text in messages:
        if db != dbname or level != "LOG":
            continue
        m = _STATEMENT.match(text)
        if m:
            out.append(m.group(1))
    return out


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if stripped := line.strip():
            return stripped[:90]
    return text.strip()[:90]


def classify(statement: str, catalog_relations: frozenset[str]) -> tuple[str, list[str]]:
    code = _COMMENT_OR_LITERAL.sub(" ", statement).lower()
    found = {w for w in _WORD.findall(code) if w in catalog_relations}
    found |= {f"information_schema.{w}" for w in _INFORMATION_SCHEMA.findall(code)}
    rels = sorted(found)
    if rels:
        return "catalog", rels
    if _TXN.match(code):
        return "transaction", []
    if _SETTING.search(code):
        return "settings", []
    return "other", []


def count_statements(log_text: str, dbname: str, catalog_relations: frozenset[str]) -> QueryCount:
    result = QueryCount()
    for statement in _entries(log_text, dbname):
        kind, rels = classify(statement, catalog_relations)
        result.total += 1
        result.kinds[kind] += 1
        if kind == "catalog":
            result.catalog += 1
            result.relations.update(rels)
        else:
            result.other += 1
        result.statements.append({"kind": kind, "text": _first_line(statement), "reads": rels})
    return result
