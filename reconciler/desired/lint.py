"""The seed's naming, mandatory-column and Redis key conventions as lint rules.

Findings are reported per table (and per enum for `enum-name`), per Redis key pattern and per
ACL user; a table silences a rule for itself, its columns, indexes and foreign keys with
`lint: {ignore: [{rule, reason}]}`, and a key pattern or ACL user entry does so for itself.
Errors fail `reconciler validate`/`check`; warnings are printed only, and `plan` shows both.
Many findings of one rule are summarized (findings.py's digest). The rules' names, severities and
descriptions, and how an ignore is recorded, are in lint_rules.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reconciler.desired.findings import Finding
from reconciler.desired.lint_rules import RULES
from reconciler.model import keypattern
from reconciler.model.address import Address
from reconciler.model.pg import Table
from reconciler.model.redis import CLASS_NEEDS_TTL, CLASS_TTL, CLASS_TYPES, AclUser, KeyPattern

if TYPE_CHECKING:
    from reconciler.desired import Desired

_SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*\Z")
# Plural words that do not end in "s" (the last word of a name decides), and words a schema
# names a collection by that have no plural (uncountable, or already naming many).
_PLURALS = frozenset(
    {"data", "metadata", "people", "children", "media", "series", "news", "feedback", "men"}
    | {"women", "feet", "teeth", "mice", "geese", "criteria", "phenomena", "indices"}
    | {"matrices", "vertices", "analyses", "equipment", "information", "staff", "personnel"}
    | {"audit", "history", "inventory", "telemetry", "software", "hardware", "firmware"}
    | {"traffic", "mail", "evidence", "knowledge", "research", "money", "cash", "stock"}
    | {"aircraft", "sheep", "fish", "deer", "species", "offspring", "cattle", "police"}
)
# The last words of a numbered, partition or shard table, left off before judging the stem:
# items_0001, events_2024_01, orders_p3, logs_y2024m01, metrics_2024q1, sessions_default.
_SUFFIX = re.compile(r"(?:[a-z]*\d[a-z0-9]*|default)\Z")


def is_plural(name: str) -> bool:
    """Heuristic: the last word of the name's stem ends in "s" (but not "ss") or is a known
    plural or uncountable word. The stem is the name without trailing numbered, partition or
    shard words (`items_0001`, `events_2024_01`, `orders_p3`): those are plural when it is."""
    words = name.split("_")
    while len(words) > 1 and _SUFFIX.match(words[-1]):
        words.pop()
    word = words[-1]
    return word in _PLURALS or (word.endswith("s") and not word.endswith("ss"))


def lint(desired: Desired) -> list[Finding]:
    """Findings for every table and enum, sorted by (file, line, rule)."""
    pg = desired.pg
    findings: list[Finding] = []
    indexes = pg.indexes_by_table()
    for table in pg.tables.values():
        ignored = {i.rule for i in desired.lint_ignores.get(table.address, ())}
        found = _table(table, indexes.get((table.schema, table.name), []))
        findings += [f for f in found if f.rule not in ignored]
    for enum in pg.enums.values():
        if not _SNAKE.match(enum.name):
            findings.append(
                _finding(
                    "enum-name",
                    f"enum '{enum.name}' is not lowercase snake_case",
                    enum.address,
                    enum.source,
                )
            )
    if desired.redis is not None:
        for pattern in desired.redis.patterns.values():
            ignored = {i.rule for i in desired.lint_ignores.get(pattern.address, ())}
            findings += [f for f in _key_pattern(pattern) if f.rule not in ignored]
        for user in desired.redis.acl.values():
            ignored = {i.rule for i in desired.lint_ignores.get(user.address, ())}
            findings += [f for f in _acl_user(user) if f.rule not in ignored]
    return sorted(findings, key=_sort_key)


def _sort_key(f: Finding) -> tuple:
    file, _, line = (f.source or "").rpartition(":")
    return (file, int(line) if line.isdigit() else 0, f.rule, str(f.address), f.message)


def _finding(rule: str, message: str, address: Address, source: str | None) -> Finding:
    return Finding(rule, RULES[rule][0], message, address, source)


def _table(t: Table, indexes: list) -> list[Finding]:
    out: list[Finding] = []
    if not _SNAKE.match(t.name):
        out.append(
            _finding(
                "table-name", f"table '{t.name}' is not lowercase snake_case", t.address, t.source
            )
        )
    elif not is_plural(t.name):
        out.append(
            _finding(
                "table-name", f"table '{t.name}' should have a plural name", t.address, t.source
            )
        )
    for c in t.columns:
        if not _SNAKE.match(c.name):
            out.append(
                _finding(
                    "column-name",
                    f"column '{t.name}.{c.name}' is not lowercase snake_case",
                    t.column_address(c.name),
                    c.source,
                )
            )
    for ix in indexes:
        if not ix.name.startswith(f"idx_{t.name}_"):
            out.append(
                _finding(
                    "index-name",
                    f"index '{ix.name}' on '{t.name}' should be named idx_{t.name}_<column>",
                    ix.address,
                    ix.source,
                )
            )
    for fk in t.foreign_keys:
        prefix = f"fk_{t.name}_{fk.ref_table}"
        if fk.name != prefix and not fk.name.startswith(prefix + "_"):
            out.append(
                _finding(
                    "fk-name",
                    f"foreign key '{fk.name}' on '{t.name}' should be named {prefix}",
                    t.constraint_address(fk.name),
                    fk.source,
                )
            )
    if t.partition_of is not None:
        return out  # a partition's columns and keys are its parent's, linted there
    id_col = t.column("id")
    if t.primary_key is None or t.primary_key.columns != ("id",):
        out.append(
            _finding(
                "pk-uuid-id",
                f"table '{t.name}' must have the primary key (id)",
                t.address,
                t.source,
            )
        )
    elif id_col is None or id_col.type != "uuid":
        out.append(
            _finding(
                "pk-uuid-id",
                f"column '{t.name}.id' must be of type uuid",
                t.address,
                id_col.source if id_col else t.source,
            )
        )
    for name in ("created_at", "updated_at"):
        col = t.column(name)
        if col is None:
            out.append(
                _finding(
                    "timestamps", f"table '{t.name}' has no '{name}' column", t.address, t.source
                )
            )
        elif not col.type.startswith("timestamp"):
            out.append(
                _finding(
                    "timestamps",
                    f"column '{t.name}.{name}' must be a timestamp, not {col.type}",
                    t.column_address(name),
                    col.source,
                )
            )
    return out


def _key_pattern(p: KeyPattern) -> list[Finding]:
    out: list[Finding] = []

    def add(rule: str, message: str) -> None:
        out.append(_finding(rule, f"key pattern '{p.pattern}' {message}", p.address, p.source))

    try:
        segments = keypattern.parse(p.pattern)
    except keypattern.PatternError:
        return out  # the loader reports it
    literals = [t for s in segments if (t := keypattern.literal_text(s)) is not None]
    for s in literals:
        if not _SNAKE.match(s):
            add("key-pattern", f"has the segment '{s}', which is not lowercase snake_case")
    if keypattern.literal_text(segments[0]) is None:
        add("key-pattern", "should start with a literal namespace, not a placeholder")
    if len(literals) == len(segments):
        add("key-pattern", "has no {placeholder} for the id")
    allowed = CLASS_TYPES.get(p.key_class or "")
    if allowed and p.type not in allowed:
        add(
            "key-type-class",
            f"is of type {p.type}, but class {p.key_class} uses {' or '.join(allowed)}",
        )
    if p.key_class in CLASS_NEEDS_TTL:
        default = CLASS_TTL[p.key_class]
        if p.ttl is None:
            add("key-ttl", f"has no TTL, but keys of class {p.key_class} must expire")
        elif default is not None and p.ttl != default and not (p.reason or "").strip():
            add("key-ttl", f"overrides the class {p.key_class} TTL without a reason")
    return out


def _acl_user(u: AclUser) -> list[Finding]:
    if u.enabled and u.nopass:
        message = f"ACL user '{u.name}' is enabled with nopass: anyone can log in as it"
        return [_finding("acl-nopass", message, u.address, u.source)]
    return []
