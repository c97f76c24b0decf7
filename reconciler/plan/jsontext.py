"""The plan's JSON, written piece by piece: the text `json.dumps` gives, never held whole.

Owns: `indented` (the whole text at once, for a plan with nothing written piece by piece) and
`chunks`, the pieces of `json.dumps(value, indent=…, sort_keys=…, ensure_ascii=False)`
for the values a plan's to_dict holds (dicts, lists, tuples, strings, numbers, booleans, None)
and for the `Lines` of a change over many keys (ops/redis/lines.py), written as the list of its
lines; a plan over a million keys to fix is written and hashed without its text in memory.
Must not: differ from `json.dumps` by a byte (tests/plan/test_plan_streaming.py and
test_plan_json_indented.py compare both),
or accept what `json.dumps` refuses (anything else is a TypeError, as there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring
from typing import Any

import orjson

from reconciler.ops.redis.lines import Lines


def _scalar(value: Any) -> str | None:
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return None


def _key(key: Any) -> str:
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, bool | int | float) or key is None:
        return encode_basestring(json.dumps(key))  # json writes such keys as their text
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def chunks(
    value: Any, indent: int | None = None, *, sort_keys: bool = False, level: int = 0
) -> Iterator[str]:
    """The pieces of json.dumps(value, indent=indent, sort_keys=sort_keys,
    ensure_ascii=False); a container's closing bracket, with the line break before it, is
    always a piece of its own."""
    text = _scalar(value)
    if text is not None:
        yield text
        return
    if indent is None:
        inner = outer = ""
        item_sep, key_sep = ", ", ": "
    else:
        inner = "\n" + " " * (indent * (level + 1))
        outer = "\n" + " " * (indent * level)
        item_sep, key_sep = "," + inner, ": "
    if isinstance(value, dict):
        if not value:
            yield "{}"
            return
        items = sorted(value.items()) if sort_keys else value.items()
        first = True
        for key, item in items:
            yield ("{" + inner if first else item_sep) + _key(key) + key_sep
            first = False
            yield from chunks(item, indent, sort_keys=sort_keys, level=level + 1)
        yield outer + "}"
        return
    if isinstance(value, list | tuple | Lines):
        if not value:
            yield "[]"
            return
        sep = "[" + inner
        for item in value:
            if type(item) is str:  # a plan's lines: one piece each, without a recursion
                yield sep + encode_basestring(item)
            else:
                yield sep
                yield from chunks(item, indent, sort_keys=sort_keys, level=level + 1)
            sep = item_sep
        yield outer + "]"
        return
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def indented(value: Any) -> str:
    """`json.dumps(value, indent=2, ensure_ascii=False)`, byte for byte. orjson writes it in
    C, where json's writer with an indent is pure Python (~0.05 s of a 1,000-table plan).
    json writes a document holding a float (their spellings differ: 1e-05 / 0.00001, NaN /
    null), and whatever orjson refuses: a key that is not a string, an integer past 64 bits,
    text that is not valid Unicode, any other type."""
    if not _has_float(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8")
        except (TypeError, orjson.JSONEncodeError):
            pass
    return json.dumps(value, indent=2, ensure_ascii=False)


def _has_float(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict:
            stack.extend(v.values())
        elif t is list or t is tuple:
            stack.extend(v)
        elif isinstance(v, float):
            return True
    return False


_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8_pieces(pieces: Iterable[str]) -> Iterator[str]:
    """`pieces` of JSON text with each lone surrogate written as its escape (`\\udcff`), as
    json.dumps with ensure_ascii writes it: the same JSON value, and text UTF-8 can hold. A
    Redis key's name that is not UTF-8 is text with such surrogates (decoded with
    surrogateescape), and may be named in a plan."""
    for piece in pieces:
        if _SURROGATE.search(piece) is not None:
            piece = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", piece)
        yield piece
