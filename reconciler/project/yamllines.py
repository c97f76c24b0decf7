"""The quick reader of project/yamlload.py: a file written the way `reconciler export` writes
one (and most people do) — block mappings and lists, one scalar, or one flat `[a, b]` or
`{k: v}` of scalars, per line, plain or quoted on that line — read line by line, without a
YAML parser, in about 60 % of the lean loop's time.

Owns: reading such a file exactly as yamlload's loops read it (the same values, BoolText and
lines: tests/desired/test_yaml_fast.py compares all three on every YAML file of the repository
and on generated documents).
Must not: decide what anything else means. At the first line it does not read as such — nested
or multi-line flow collections, block scalars, anchors, tags, comments after a value, a scalar
over several lines, an escape, a tab, a repeated key, an empty or over-long key, a line break
other than \\n, anything it could misread — it raises _Unusual, and load_bytes hands the whole
file to the lean loop.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.project.yamlplain import _FIRST, _plain_value, _Unusual
from reconciler.project.yamlvalues import MAX_DEPTH, Loaded, Marks, Path

# What the reader takes as it is: \n and YAML's printable characters other than its other line
# breaks (\x85, \u2028, \u2029), a byte order mark and \r (all left to the parser); no tab.
_OTHER = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
# A plain scalar (key or value) cannot start with one of these; `-` may, before a non-space.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# YAML reads a key written without `?` only up to 1,024 characters; longer ones go on, well
# short of that.
_MAX_KEY = 512


def _plain(text: str) -> str:
    """A plain scalar written on one line, as it stands; _Unusual where YAML would read more
    (a comment, a mapping value, an indicator) or something else than the text."""
    if not text:
        raise _Unusual
    first = text[0]
    if first in _INDICATORS and (first != "-" or text[1:2] in ("", " ")):
        raise _Unusual
    if ": " in text or " #" in text or text[-1] == ":":
        raise _Unusual
    return text


def _key(text: str) -> str:
    """A key written plain before its `: `; _Unusual where YAML reads more or refuses it."""
    key = _plain(text)
    if key[-1] == " " or len(key) > _MAX_KEY or key == "<<":
        raise _Unusual
    return key


def _value(text: str) -> tuple[Any, bool]:
    """A value written after `key: ` or `- ` (text without its trailing spaces): the value and
    whether it was plain."""
    first = text[0]
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise _Unusual
        return inner.replace("''", "'"), False
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
            raise _Unusual
        return inner, False
    return _plain(text), True


def _node(text: str, path: Path, number: int, nodes: Any, keys: Any) -> Any:
    """The value written as `text` on line `number` (its own line is the caller's to mark): a
    scalar, or a flow list or mapping of scalars held on that line."""
    first = text[0]
    if first == "[" or first == "{":
        return _flow(text, path, number, nodes, keys)
    value, plain = _value(text)
    return _plain_value(value) if plain else value


def _flow(text: str, path: Path, number: int, nodes: Any, keys: Any) -> Any:
    """`[a, 'b']` or `{k: v, k2: 'w'}` on one line, of scalars only; _Unusual at anything else
    (nesting, a comma or colon inside a scalar, an empty entry, a comment)."""
    if len(path) >= MAX_DEPTH:  # the collection would be nested one level too deep
        raise _Unusual
    closing = "]" if text[0] == "[" else "}"
    inner = text[1:-1]
    if text[-1] != closing or any(c in inner for c in "[]{}#"):
        raise _Unusual
    entries = [e.strip(" ") for e in inner.split(",")]
    if entries == [""]:
        return [] if closing == "]" else {}
    if closing == "]":
        items: list[Any] = []
        for entry in entries:
            if not entry or ":" in entry:
                raise _Unusual
            nodes[(*path, len(items))] = number
            value, plain = _value(entry)
            items.append(_plain_value(value) if plain else value)
        return items
    mapping: dict[str, Any] = {}
    for entry in entries:
        key, sep, written = entry.partition(": ")
        written = written.lstrip(" ")
        if not sep or not written or ":" in written or key in mapping:
            raise _Unusual
        key = _key(key)
        if ":" in key:
            raise _Unusual
        keys[(*path, key)] = nodes[(*path, key)] = number
        value, plain = _value(written)
        mapping[key] = _plain_value(value) if plain else value
    return mapping


def read(text: str) -> Loaded:
    """The file's values and lines; raises _Unusual at anything the module docstring leaves
    to the lean loop."""
    if _OTHER.search(text) is not None:
        raise _Unusual
    nodes: dict[Path, int] = {}
    keys: dict[Path, int] = {}
    # One frame per open mapping or list: [container, path, indent, key waiting for a value
    # (mappings), line of that key]. A mapping's indent is its keys' column; a list's, its
    # dashes' column.
    stack: list[list[Any]] = []
    root: Any = None
    started = False
    number = 0
    top: list[Any] | None = None  # the frame on top of the stack, for the common line
    for line in text.split("\n"):
        number += 1
        content = line.lstrip(" ")
        if not content or content[0] == "#":
            continue  # a blank line or a whole-line comment
        column = len(line) - len(content)
        content = content.rstrip(" ")
        # The common line first: `key: value` in the mapping on top, its last key answered.
        if top is not None and top[2] == column and top[3] is None and type(top[0]) is dict:
            at = content.find(": ")
            if at > 0 and content[:2] != "- ":
                key = content[:at]
                rest = content[at + 2 :].lstrip(" ")
                mapping = top[0]
                if (
                    rest
                    and key[0] not in _INDICATORS
                    and key[-1] != " "
                    and len(key) <= _MAX_KEY
                    and ": " not in key
                    and " #" not in key
                    and key not in mapping
                    and key != "<<"
                ):
                    path = (*top[1], key)
                    keys[path] = number
                    nodes[path] = number
                    first = rest[0]
                    if first == "'" or first == '"' or first in _INDICATORS:
                        mapping[key] = _node(rest, path, number, nodes, keys)
                    elif ": " in rest or " #" in rest or rest[-1] == ":":
                        raise _Unusual
                    elif first in _FIRST:
                        mapping[key] = _plain_value(rest)
                    else:
                        mapping[key] = rest
                    continue
        if column == 0 and content[:3] in ("---", "...") and content[3:4] in ("", " "):
            if started or content != "---":
                raise _Unusual  # a second document, an end marker, or content after ---
            started = True
            continue
        started = True
        dash = content[:2] == "- "
        if content == "-" or (dash and content[2:].lstrip(" ")[:2] in ("- ", "-")):
            raise _Unusual  # an empty item, or a list in a list on one line
        # Close what this line ends: deeper frames, and a list at this column that it does
        # not continue.
        while stack:
            top = stack[-1]
            if column < top[2] or (column == top[2] and type(top[0]) is list and not dash):
                _close(stack.pop(), nodes)
            else:
                break
        else:
            top = None
        if dash and top is not None and top[2] == column and type(top[0]) is list:
            # The common item: `- scalar` or `- key: value` in the list on top.
            rest = content[2:]
            if rest[0] != " " and rest[-1] != ":":
                seq = top[0]
                path = (*top[1], len(seq))
                nodes[path] = number
                at = -1 if rest[0] in "[{" else rest.find(": ")
                if at < 0:
                    seq.append(_node(rest, path, number, nodes, keys))
                    continue
                mapping: dict[str, Any] = {}
                seq.append(mapping)
                if len(stack) >= MAX_DEPTH:
                    raise _Unusual
                top = [mapping, path, column + 2, None, 0]
                stack.append(top)
                _entry(top, rest, at, number, nodes, keys)
                continue
        top = _line(stack, content, column, dash, number, nodes, keys, root is None)
        if root is None:
            root = stack[0][0]
    if not started or root is None:
        raise _Unusual  # an empty file, or one of comments: the lean loop says what it holds
    while stack:
        _close(stack.pop(), nodes)
    return Loaded(root, Marks(nodes, keys), [])


def _line(
    stack: list[list[Any]],
    content: str,
    column: int,
    dash: bool,
    number: int,
    nodes: dict[Path, int],
    keys: dict[Path, int],
    first: bool,
) -> list[Any]:
    """Any other line (an item, a key opening or closing a mapping, a key after one without a
    value): read into the frames; returns the frame on top after it. `first`: no line has
    opened the file's mapping or list yet."""
    if dash:
        rest = content[2:].lstrip(" ")
        item_column = column + len(content) - len(rest)
        if stack and type(stack[-1][0]) is list and stack[-1][2] == column:
            seq = stack[-1]
        else:  # a new list: the value of the key waiting for one, or the whole file
            seq = _open(stack, column, number, [], first, nodes)
            if seq is None:
                raise _Unusual
        path = (*seq[1], len(seq[0]))
        colon = -1 if rest[:1] in ("[", "{") else _colon(rest)
        nodes[path] = number
        if colon < 0:  # a scalar item, or a flow list or mapping
            seq[0].append(_node(rest, path, number, nodes, keys))
            return seq
        # A mapping item: its first key is on this line, at the item's column.
        mapping: dict[str, Any] = {}
        seq[0].append(mapping)
        if len(stack) >= MAX_DEPTH:
            raise _Unusual
        frame = [mapping, path, item_column, None, 0]
        stack.append(frame)
        _entry(frame, rest, colon, number, nodes, keys)
        return frame
    colon = _colon(content)
    if colon < 0:
        raise _Unusual  # a scalar alone on its line: a second line of one, or the file
    top = stack[-1] if stack else None
    if top is not None and type(top[0]) is dict and top[2] == column:
        frame = top
    else:  # a new mapping: the value of the key waiting for one, or the whole file
        opened = _open(stack, column, number, {}, first, nodes)
        if opened is None:
            raise _Unusual
        frame = opened
    _entry(frame, content, colon, number, nodes, keys)
    return frame


def _colon(content: str) -> int:
    """Where the `: ` (or final `:`) after a key is in `content`, -1 when there is none."""
    at = content.find(": ")
    if at < 0 and content[-1] == ":":
        at = len(content) - 1
    return at


def _open(
    stack: list[list[Any]], column: int, number: int, container: Any, first: bool, nodes: Any
) -> Any:
    """A mapping or list starting at `column` on line `number`: the value of the key waiting
    in the frame on top (a list may sit at that key's own column), or the whole file; None
    when it can be neither."""
    if not stack:
        if not first:
            return None
        path: Path = ()
    else:
        top = stack[-1]
        if type(top[0]) is not dict or top[3] is None:
            return None
        if column < top[2] or (column == top[2] and type(container) is not list):
            return None
        path = (*top[1], top[3])
        top[0][top[3]] = container
        top[3] = None
    if len(stack) >= MAX_DEPTH:
        raise _Unusual
    frame = [container, path, column, None, 0]
    stack.append(frame)
    nodes[path] = number
    return frame


def _entry(
    frame: list[Any],
    content: str,
    colon: int,
    number: int,
    nodes: dict[Path, int],
    keys: dict[Path, int],
) -> None:
    """`key: value` or `key:` (at `colon`) in the mapping of `frame`, on line `number`."""
    mapping = frame[0]
    if frame[3] is not None:  # the key before had no value: null, on its line
        _null(frame, nodes)
    key = _key(content[:colon])
    if key in mapping:
        raise _Unusual
    path = (*frame[1], key)
    keys[path] = number
    rest = content[colon + 2 :].lstrip(" ") if colon + 1 < len(content) else ""
    if not rest:
        mapping[key] = None  # held for the order of keys; a nested value replaces it
        frame[3] = key
        frame[4] = number
        return
    nodes[path] = number
    mapping[key] = _node(rest, path, number, nodes, keys)


def _null(frame: list[Any], nodes: dict[Path, int]) -> None:
    key = frame[3]
    frame[0][key] = _plain_value("")
    nodes[(*frame[1], key)] = frame[4]
    frame[3] = None


def _close(frame: list[Any], nodes: dict[Path, int]) -> None:
    """The end of a mapping or list: a key still waiting for its value has none (null)."""
    if frame[3] is not None:
        _null(frame, nodes)
