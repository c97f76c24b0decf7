"""The YAML text of an exported document, written by our own emitter when it can be.

Owns: `Block` (a multi-line text written as a literal block, as the server prints it), the
options every export document is written with, and `YamlText`: the text of a document exactly
as PyYAML with libyaml's emitter (`CSafeDumper`, block style, keys in order, unicode, width
100) writes it. Representing each value through PyYAML's Python representer took most of an
export's time; the documents export writes are plain dicts, lists, strings, integers and
booleans, which this module writes itself with libyaml's own rules for choosing and writing
a scalar's style (`emitter.c`: analyze_scalar, select_scalar_style, the plain, single-quoted
and literal writers), asking PyYAML's resolver whether a plain scalar would read back as
itself. Anything outside what it reproduces — a double-quoted scalar (control characters,
tabs, characters beyond the Basic Multilingual Plane, trailing spaces before a line break), a
literal block keeping its final line breaks, a long or multi-line mapping key, a float, a
tuple, an object used twice (PyYAML writes an alias), a deep nesting — makes the whole
document go to PyYAML, so the text never differs (tests/export/test_export_yamltext.py
compares both on generated and hostile values).
Must not: decide what a document holds, or write files (yamlfile.py does).
"""

from __future__ import annotations

import io
import re
from typing import Any

import yaml

OPTIONS: dict[str, Any] = {"sort_keys": False, "allow_unicode": True, "width": 100}
WIDTH = 100  # libyaml's best_width: plain and single-quoted scalars fold after this column
INDENT = 2  # libyaml's best_indent

# libyaml's emitter when PyYAML was built with it: the pure-Python one took most of an
# export's time (6 of 8 s at 1,000 tables under a profiler).
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Block(str):
    """A multi-line text written as a YAML literal block (`|`), as the server prints it."""


def _block(dumper: yaml.SafeDumper, value: Block) -> yaml.ScalarNode:
    # A literal block keeps every line as it is; the emitter falls back to a quoted scalar by
    # itself where a block cannot hold the text exactly (trailing spaces, tabs).
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style=style)


yaml.SafeDumper.add_representer(Block, _block)
DUMPER.add_representer(Block, _block)


def pyyaml_text(doc: Any) -> str:
    """The document as PyYAML writes it: what `YamlText` must equal."""
    return yaml.dump(doc, Dumper=DUMPER, **OPTIONS)


class _Fallback(Exception):
    """The document holds something this emitter does not reproduce: PyYAML writes it."""


# --- libyaml's analysis of a scalar (emitter.c, yaml_emitter_analyze_scalar) -------------

# IS_PRINTABLE on a code point (libyaml tests UTF-8 bytes): LF, ASCII printable, the BMP but
# surrogates, U+FEFF, U+FFFE and U+FFFF. Astral characters are not printable to libyaml. The
# class lists what is not printable: its complement (a negated class over most of the BMP)
# takes re 3.4 ms to compile.
_UNPRINTABLE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff\U00010000-\U0010ffff]"
)
_BREAK = "\r\n\x85\u2028\u2029"
_BLANKZ = " \t" + _BREAK  # and the end of the text
_HAS_BREAK = re.compile(f"[{_BREAK}]")
_BREAK_SPACE = re.compile(f"[{_BREAK}] ")
_SPACE_BREAK = re.compile(f" [{_BREAK}]")
# What makes a plain scalar impossible in block context (block_indicators): "---" or "..."
# first; an indicator first; "?", ":" or "-" first and followed by a blank or the end; ":"
# followed by a blank or the end anywhere else; "#" after a blank.
_BLOCK_INDICATOR = re.compile(
    f"\\A(?:---|\\.\\.\\.|[#,\\[\\]{{}}&*!|>'\"%@`]|[?:-](?:[{_BLANKZ}]|\\Z))"
    f"|.:(?:[{_BLANKZ}]|\\Z)|[{_BLANKZ}]#",
    re.S,
)


def _analyze(s: str) -> tuple[bool, bool, bool, bool]:
    """(multiline, block_plain_allowed, single_quoted_allowed, block_allowed) as libyaml's
    analyze_scalar decides them for a non-empty scalar (flow_plain_allowed is never used)."""
    special = _UNPRINTABLE.search(s) is not None
    line_breaks = _HAS_BREAK.search(s) is not None
    leading = s[0] == " " or s[0] in _BREAK
    trailing_space = s[-1] == " "
    trailing = trailing_space or s[-1] in _BREAK
    break_space = line_breaks and _BREAK_SPACE.search(s) is not None
    space_break = line_breaks and _SPACE_BREAK.search(s) is not None
    block_plain = not (
        leading
        or trailing
        or break_space
        or space_break
        or special
        or line_breaks
        or _BLOCK_INDICATOR.search(s)
    )
    single = not (break_space or space_break or special)
    block = not (trailing_space or space_break or special)
    return line_breaks, block_plain, single, block


# --- the scalar writers (emitter.c, yaml_emitter_write_*) --------------------------------


def _write_plain(s: str, column: int, indent: int) -> str:
    """A plain scalar starting at `column` (after its separating space), folded at a space
    past the width onto lines indented by `indent`, as libyaml does."""
    out: list[str] = []
    spaces = False
    n = len(s)
    for i, ch in enumerate(s):
        if ch == " ":
            if not spaces and column > WIDTH and not (i + 1 < n and s[i + 1] == " "):
                out.append("\n" + " " * indent)
                column = indent
            else:
                out.append(ch)
                column += 1
            spaces = True
        else:
            out.append(ch)
            column += 1
            spaces = False
    return "".join(out)


def _write_single(s: str, column: int, indent: int) -> str:
    """A single-quoted scalar whose quote starts at `column` (libyaml's writer: folds at a
    space past the width, a line break written twice, then the next line indented)."""
    out = ["'"]
    column += 1
    spaces = breaks = False
    n = len(s)
    for i, ch in enumerate(s):
        if ch == " ":
            if (
                not spaces
                and column > WIDTH
                and i != 0
                and i != n - 1
                and not (i + 1 < n and s[i + 1] == " ")
            ):
                out.append("\n" + " " * indent)
                column = indent
            else:
                out.append(ch)
                column += 1
            spaces = True
        elif ch == "\n":
            out.append("\n" if breaks else "\n\n")
            column = 0
            breaks = True
        else:
            if breaks:
                out.append(" " * indent)
                column = indent
            out.append("''" if ch == "'" else ch)
            column += 2 if ch == "'" else 1
            spaces = breaks = False
    if breaks:
        out.append(" " * indent)
    out.append("'")
    return "".join(out)


def _write_literal(s: str, indent: int) -> str:
    """A literal block's text after the `|`: its hints, then each line indented (an empty
    line stays empty). Keeping final line breaks (`|+`) is left to PyYAML."""
    if s.endswith("\n\n") or s == "\n":
        raise _Fallback  # `|+`, after which libyaml may close the document with `...`
    hint = str(INDENT) if s[0] in " \n" else ""
    clip = s.endswith("\n")
    body = s[:-1] if clip else s
    pad = " " * indent
    lines = "\n".join(pad + line if line else "" for line in body.split("\n"))
    return f"{hint}{'' if clip else '-'}\n{lines}"


class YamlText:
    """Writes documents as PyYAML with libyaml does, remembering each distinct string's style
    (tables repeat the same names, types and defaults many times).

    One instance per export: the memory is the export's distinct strings."""

    def __init__(self) -> None:
        # the dumper's own resolver, as libyaml's serializer asks it (implicit resolvers can
        # be added to a dumper class)
        self._resolve = DUMPER(io.StringIO()).resolve
        # a string as a mapping value or sequence item: its text after the separating space
        # when it is one line (plain or single-quoted) and "'" when it is a multi-line
        # single-quoted scalar; either is folded when it goes past the width
        self._value: dict[str, str] = {}
        self._keys: dict[str, str] = {}  # key → its text (a sequence item's first key: `- name:`)
        self._starts: dict[int, dict[str, str]] = {}  # by indent: key → "  key:"
        self.fallbacks = 0  # documents PyYAML wrote

    def text(self, doc: Any) -> str:
        if type(doc) is dict and doc:
            try:
                out: list[str] = []
                self._mapping(doc, 0, "", out, set())
                return "".join(out)
            except _Fallback:
                pass
        self.fallbacks += 1
        return pyyaml_text(doc)

    # --- containers ----------------------------------------------------------------------

    def _mapping(self, d: dict, indent: int, lead: str, out: list[str], seen: set[int]) -> None:
        """A non-empty block mapping whose keys start at column `indent`; `lead` is what the
        first key's line already holds (the `- ` of a sequence item), `indent` long."""
        if id(d) in seen or indent > 60:
            raise _Fallback  # an alias (an object used twice), or nested past a safe depth
        seen.add(id(d))
        starts = self._starts.get(indent)
        if starts is None:
            starts = self._starts[indent] = {}
        values = self._value
        for k, v in d.items():
            if lead:  # the first key of a sequence item
                key = self._keys.get(k) if type(k) is str else None
                if key is None:
                    key = self._key_text(k)
                    self._keys[k] = key
                line = lead + key + ":"
                lead = ""
            else:
                line = starts.get(k) if type(k) is str else None
                if line is None:
                    line = starts[k] = " " * indent + self._key_text(k) + ":"
            t = type(v)
            if t is str:
                text = values.get(v)
                if text is None:
                    text = self._value_text(v)
                if text != "'" and (len(line) + len(text) <= WIDTH + 1 or " " not in text):
                    out.append(f"{line} {text}\n")  # one line that no fold can touch
                else:
                    out.append(line + self._folded(v, text, len(line), indent + INDENT) + "\n")
            elif t is dict:
                if v:
                    out.append(line + "\n")
                    self._mapping(v, indent + INDENT, "", out, seen)
                else:
                    out.append(line + " {}\n")
            elif t is list:
                if v:
                    out.append(line + "\n")
                    self._sequence(v, indent, "", out, seen)  # indentless, as libyaml writes
                else:
                    out.append(line + " []\n")
            elif t is Block:
                out.append(line + self._block(v, len(line), indent + INDENT) + "\n")
            else:
                out.append(f"{line} {_other(v)}\n")

    def _sequence(self, s: list, indent: int, lead: str, out: list[str], seen: set[int]) -> None:
        """A non-empty block sequence whose `- ` are at column `indent`."""
        if id(s) in seen or indent > 60:
            raise _Fallback
        seen.add(id(s))
        pad = " " * indent + "-"
        values = self._value
        for v in s:
            line = lead + "-" if lead else pad
            lead = ""
            t = type(v)
            if t is str:
                text = values.get(v)
                if text is None:
                    text = self._value_text(v)
                if text != "'" and (len(line) + len(text) <= WIDTH + 1 or " " not in text):
                    out.append(f"{line} {text}\n")
                else:
                    out.append(line + self._folded(v, text, len(line), indent + INDENT) + "\n")
            elif t is dict:
                if v:
                    self._mapping(v, indent + INDENT, line + " ", out, seen)
                else:
                    out.append(line + " {}\n")
            elif t is list:
                if v:
                    self._sequence(v, indent + INDENT, line + " ", out, seen)
                else:
                    out.append(line + " []\n")
            elif t is Block:
                out.append(line + self._block(v, len(line), indent + INDENT) + "\n")
            else:
                out.append(f"{line} {_other(v)}\n")

    # --- scalars -------------------------------------------------------------------------

    def _block(self, s: Block, column: int, indent: int) -> str:
        """A Block value after `column` characters of its line: a literal block when it has
        several lines, else as any string."""
        if "\n" not in s:
            text = self._value.get(s)
            if text is None:
                text = self._value_text(s)
            if text != "'" and (column + len(text) <= WIDTH + 1 or " " not in text):
                return " " + text
            return self._folded(s, text, column, indent)
        if not _analyze(s)[3] or "\u2028" in s or "\u2029" in s:
            raise _Fallback  # double-quoted
        return " |" + _write_literal(s, indent)

    @staticmethod
    def _folded(s: str, text: str, column: int, indent: int) -> str:
        """A string written after `column` characters of its line that may be folded past the
        width, or that is single-quoted over several lines (`text` is its style)."""
        if text[0] == "'":
            return " " + _write_single(s, column + 1, indent)
        return " " + _write_plain(s, column + 1, indent)

    def _value_text(self, s: str) -> str:
        """The style libyaml chooses for a string value (select_scalar_style): its text on one
        line, "'" for a multi-line single-quoted one; _Fallback for double quotes."""
        if "\u2028" in s or "\u2029" in s:
            raise _Fallback  # line breaks that only libyaml's writers know how to write
        if not s:
            text = "''"  # the empty plain scalar reads back as null
        else:
            multiline, block_plain, single, _ = _analyze(s)
            if block_plain and self._plain_reads_back(s):
                text = s
            elif not single:
                raise _Fallback  # double-quoted
            else:
                text = "'" if multiline else "'" + s.replace("'", "''") + "'"
        self._value[s] = text
        return text

    def _key_text(self, k: Any) -> str:
        """A simple key (one line, at most 128 bytes: libyaml's check_simple_key), plain or
        single-quoted; never folded. Anything else is left to PyYAML."""
        if type(k) is not str or len(k.encode("utf-8")) > 128:
            raise _Fallback
        if not k:
            text = "''"
        else:
            multiline, block_plain, single, _ = _analyze(k)
            if multiline:
                raise _Fallback  # double-quoted, or an explicit `? ` key
            if block_plain and self._plain_reads_back(k):
                text = k
            elif single:
                text = "'" + k.replace("'", "''") + "'"
            else:
                raise _Fallback
        return text

    def _plain_reads_back(self, s: str) -> bool:
        """A plain `s` would be read back as a string, not a number, boolean, null…"""
        return self._resolve(yaml.ScalarNode, s, (True, False)) == _STR


_STR = "tag:yaml.org,2002:str"


def _other(v: Any) -> str:
    """A boolean, an integer or None, as SafeRepresenter writes them (always plain)."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if type(v) is int:
        return str(v)  # Python's int text reads back as that int (digits, a minus sign)
    raise _Fallback  # floats, tuples, dates, other types: PyYAML decides (or refuses)
