"""How a statement is laid out in a plan's .sql file: its continuation lines indented.

Owns: `indented(statement)`, the statement as the up and down files show it. Only whitespace
where SQL ignores it changes: the start of a line that begins between two tokens of the
statement, or of the anonymous code block of a `DO` (never a line inside a string, a quoted
name, a comment or a dollar-quoted body that is kept, such as a function's). What psql runs
from the file is what apply runs from the plan.

Must not: parse SQL (a lexer of quotes and comments is enough), or change anything but the
spaces at the start of a continuation line.
"""

from __future__ import annotations

import re

INDENT = "    "
# A dollar quote's tag: a letter, `_` or any character beyond ASCII, then those and digits. The
# classes name what they leave out: [A-Za-z_\x80-\U0010ffff], the same set, takes re 3.5 ms to
# compile (its range up to U+10FFFF), paid by every command that loads this module.
TAG_START = r"[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f]"
TAG_REST = r"[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]"
_DOLLAR = re.compile(rf"\$({TAG_START}{TAG_REST}*)?\$")
_DO = re.compile(r"DO\s+(?=\$)", re.IGNORECASE)
_NEXT = re.compile(r"[\n'\"$]|--|/\*")  # where a line, a quote or a comment may start
# The lines of a PL/pgSQL block that stay at its left edge: its own BEGIN, DECLARE,
# EXCEPTION and END (END IF, END LOOP are inside it and indented).
_BLOCK_EDGE = re.compile(r"(BEGIN|DECLARE|EXCEPTION)\b|END\s*(\$|;|$)", re.IGNORECASE)


def _line_starts(text: str) -> list[int] | None:
    """The offsets of the lines of `text` that begin between tokens (not inside a string, a
    quoted name, a comment or a dollar-quoted text); None when a quote is not closed."""
    starts, i, n = [], 0, len(text)
    while i < n:
        found = _NEXT.search(text, i)  # what lies between is plain text: skipped whole
        if found is None:
            break
        i = found.start()
        c = text[i]
        if c == "\n":
            starts.append(i + 1)
            i += 1
        elif c == "'":
            escapes = i > 0 and text[i - 1] in "eE" and (i < 2 or not text[i - 2].isalnum())
            i += 1
            while True:
                if i >= n:
                    return None
                if escapes and text[i] == "\\":
                    i += 2
                elif text[i] == "'":
                    if i + 1 < n and text[i + 1] == "'":
                        i += 2
                    else:
                        i += 1
                        break
                else:
                    i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            while end != -1 and text[end + 1 : end + 2] == '"':
                end = text.find('"', end + 2)
            if end == -1:
                return None
            i = end + 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end == -1 else end
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while depth:
                if i >= n:
                    return None
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "$" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            tag = _DOLLAR.match(text, i)
            if tag is None:
                i += 1
                continue
            end = text.find(tag.group(0), tag.end())
            if end == -1:
                return None
            i = end + len(tag.group(0))
        else:
            i += 1
    return starts


def _indent_at(text: str, starts: list[int], keep: re.Pattern[str] | None) -> str:
    """`text` with INDENT put before each line starting at one of `starts` that sits at
    column 0 (but a closing bracket, or a line `keep` matches)."""
    out, last = [], 0
    for s in starts:
        rest = text[s:]
        if not rest or rest[0] in " \t\n)" or (keep is not None and keep.match(rest)):
            continue
        out += [text[last:s], INDENT]
        last = s
    return "".join([*out, text[last:]])


def _do_block(statement: str) -> str | None:
    """A `DO $tag$ … $tag$` statement with its body's lines indented; None if it is not one."""
    head = _DO.match(statement)
    if head is None:
        return None
    tag = _DOLLAR.match(statement, head.end())
    if tag is None:
        return None
    end = statement.find(tag.group(0), tag.end())
    if end == -1 or statement[end + len(tag.group(0)) :].strip():
        return None
    body = statement[tag.end() : end]
    starts = _line_starts(body)
    if starts is None:
        return None
    body = _indent_at(body, starts, _BLOCK_EDGE)
    return f"{statement[: tag.end()]}{body}{statement[end:]}"


def indented(statement: str) -> str:
    """`statement` as a plan file shows it: the continuation lines that start at column 0
    between tokens indented by four spaces (a closing bracket stays), and in a DO block the
    statements between its BEGIN, EXCEPTION and END. Any other text is returned as it is."""
    if "\n" not in statement:
        return statement
    block = _do_block(statement)
    if block is not None:
        return block
    starts = _line_starts(statement)
    return statement if starts is None else _indent_at(statement, starts, None)
