"""A rule read back: its condition and commands, taken from the server's CREATE RULE text.

pg_get_ruledef prints `CREATE RULE name AS ON event TO relation [WHERE condition] DO
[INSTEAD] NOTHING | command | (command; command; …)`. Names that could read as keywords are
quoted there, so the first `WHERE` and `DO` outside quotes and parentheses are the clauses'
own; one command has no `;` outside quotes and parentheses, a list of them is parenthesized
with one after each.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.model.pg_rules import Rule

_EVENTS = {"2": "update", "3": "insert", "4": "delete", "1": "select"}
_FIRES = {"O": "origin", "R": "replica", "A": "always", "D": "never"}
_WORD = re.compile(r"\s(WHERE|DO)\s")


def rule_from_row(row: tuple[Any, ...]) -> Rule:
    schema, table, name, event, instead, definition, enabled, comment, reads = row
    where, actions = split_rule(definition)
    return Rule(
        schema,
        table,
        name,
        _EVENTS.get(event, event),
        instead=instead,
        where=where,
        actions=actions,
        fires=_FIRES.get(enabled, enabled),
        comment=comment,
        reads=tuple((s, r, c) for s, r, c in reads or ()),
    )


def split_rule(definition: str) -> tuple[str | None, tuple[str, ...]]:
    """(condition or None, commands) of a CREATE RULE text as the server prints it."""
    text = definition.strip()
    top = _outside(text)
    where_at = do_at = None
    for m in _WORD.finditer(text):
        if not top[m.start(1)]:
            continue
        if m.group(1) == "WHERE" and where_at is None:
            where_at = m.end()
        elif m.group(1) == "DO":
            do_at = m.start()
            break
    if do_at is None:
        raise ValueError(f"unexpected rule definition: {definition!r}")
    where = text[where_at:do_at].strip() if where_at is not None else None
    rest = text[do_at:].strip().removeprefix("DO").strip()
    rest = rest.removeprefix("INSTEAD").strip().removesuffix(";").strip()
    if rest == "NOTHING":
        return where, ()
    if rest.startswith("(") and rest.endswith(")"):
        inner = rest[1:-1]
        parts = _split_top(inner)
        if len(parts) > 1 or inner.rstrip().endswith(";"):
            return where, tuple(p.strip() for p in parts if p.strip())
    return where, (rest,)


def _split_top(text: str) -> list[str]:
    """`text` cut at each `;` outside quotes and parentheses."""
    top = _outside(text)
    out, start = [], 0
    for i, ch in enumerate(text):
        if ch == ";" and top[i]:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def _outside(text: str) -> list[bool]:
    """Per character: whether it is outside string literals, quoted names and parentheses."""
    out = [False] * len(text)
    depth, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            escapes = ch == "'" and i > 0 and text[i - 1] in "eE"
            j = i + 1
            while j < n:
                if escapes and text[j] == "\\":
                    j += 2
                    continue
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        else:
            out[i] = depth == 0
        i += 1
    return out
