"""sql/layout.indented: a plan file's statements with their continuation lines indented, and
nothing changed that SQL reads: the same tokens, strings, quoted names, comments and kept
bodies byte for byte (a DO block's code only gains spaces between its tokens)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pglast.parser import scan

from reconciler.sql import layout
from reconciler.sql.layout import TAG_REST, TAG_START, indented
from reconciler.sql.render import guarded, run_unless

STATEMENTS = [
    guarded('ALTER TABLE "t" ADD CONSTRAINT "c" CHECK (a > 0)', "duplicate_object"),
    run_unless("SELECT 1", "CREATE TYPE x AS ENUM ('a')"),
    'CREATE TABLE IF NOT EXISTS "t" (\n    "a" int,\n    "b" text\n)',
    "COMMENT ON TABLE t IS 'first\nsecond ''quoted''\nthird'",
    "COMMENT ON TABLE t IS E'it\\'s\nnext'",
    'CREATE VIEW "a\nb" AS\nSELECT 1 AS "x\ny"',
    "CREATE RULE r AS ON INSERT TO t\nWHERE (\nnew.a > 0\n)\nDO INSTEAD NOTHING",
    "CREATE FUNCTION f() RETURNS int AS $function$\nBEGIN\nRETURN 1;\nEND\n$function$\n"
    "LANGUAGE plpgsql",
    "SELECT 1 /* a\nnested /* comment\n*/ still */\n, 2 -- trailing\n, 3",
    guarded(
        "CREATE FUNCTION f() RETURNS int AS $body$\nBEGIN\nRETURN 1;\nEND\n$body$\n"
        "LANGUAGE plpgsql",
        "duplicate_function",
    ),
    "DO $r$BEGIN\nIF x THEN\nALTER TABLE a RENAME TO b;\nEND IF;\nEND$r$",
]


def _tokens(text: str) -> list[str]:
    out = []
    for t in scan(text):
        piece = text[t.start : t.end + 1]
        if piece.startswith("$") and t.name == "SCONST":  # a DO body: its own tokens
            tag = piece[: piece.index("$", 1) + 1]
            out += [tag, *_tokens(piece[len(tag) : -len(tag)]), tag]
        else:
            out.append(piece)
    return out


@pytest.mark.parametrize("statement", STATEMENTS)
def test_only_spaces_between_tokens_change(statement):
    shown = indented(statement)
    assert _tokens(shown) == _tokens(statement)
    before, after = statement.split("\n"), shown.split("\n")
    assert len(after) == len(before)
    assert all(a in (b, "    " + b) for a, b in zip(after, before, strict=True)), shown


def test_what_sql_reads_keeps_its_lines_and_the_rest_is_indented():
    assert indented("COMMENT ON TABLE t IS 'first\nsecond'\n;") == (
        "COMMENT ON TABLE t IS 'first\nsecond'\n    ;"
    )
    assert indented('CREATE VIEW "a\nb" AS\nSELECT 1') == 'CREATE VIEW "a\nb" AS\n    SELECT 1'
    assert indented("SELECT 1 /* a\nb */\n, 2") == "SELECT 1 /* a\nb */\n    , 2"
    assert indented("CREATE RULE r AS ON INSERT TO t\nWHERE (\nnew.a > 0\n)\nDO NOTHING") == (
        "CREATE RULE r AS ON INSERT TO t\n    WHERE (\n    new.a > 0\n)\n    DO NOTHING"
    )
    unclosed = "SELECT 'never closed\nFROM t"
    assert indented(unclosed) == unclosed


def test_a_guarded_statement_sits_inside_its_block():
    shown = indented(guarded("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)", "duplicate_object"))
    assert shown.splitlines() == [
        "DO $reconciler$BEGIN",
        "    ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);",
        "EXCEPTION WHEN duplicate_object THEN NULL;",
        "END$reconciler$",
    ]


def test_a_function_body_inside_a_do_block_is_kept():
    text = guarded(
        "CREATE FUNCTION f() RETURNS int AS $body$\nBEGIN\nRETURN 1;\nEND\n$body$\n"
        "LANGUAGE plpgsql",
        "duplicate_function",
    )
    assert "$body$\nBEGIN\nRETURN 1;\nEND\n$body$\n    LANGUAGE plpgsql" in indented(text)


def _one_char_at_a_time(text: str) -> list[int] | None:
    """The line starts found by reading every character in turn: the oracle for the scan
    that skips plain text whole."""
    starts, i, n = [], 0, len(text)
    while i < n:
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
            tag = layout._DOLLAR.match(text, i)
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


PIECES = [
    "a",
    "E",
    "x1",
    " ",
    "\n",
    "'",
    "''",
    "\\",
    '"',
    '""',
    "--",
    "-",
    "/*",
    "*/",
    "/",
    "*",
    "$",
    "$$",
    "$q$",
    "$1",
    "_",
    "e'",
    "(",
    ")",
    ";",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_the_scan_finds_the_lines_reading_every_character_finds(pieces):
    text = "".join(pieces)
    assert layout._line_starts(text) == _one_char_at_a_time(text)


def test_a_dollar_quote_tag_is_a_letter_underscore_or_non_ascii_then_those_and_digits():
    """The tag classes are written as what they leave out (fast to compile): each accepts
    exactly the characters its plain spelling names, over ASCII, beyond it and at the end."""
    plain_start = re.compile(r"[A-Za-z_\x80-\U0010ffff]")
    plain_rest = re.compile(r"[A-Za-z_0-9\x80-\U0010ffff]")
    start, rest = re.compile(TAG_START), re.compile(TAG_REST)
    for code in [*range(0x200), 0xD800, 0xFFFF, 0x10000, 0x10FFFF]:
        c = chr(code)
        assert bool(start.fullmatch(c)) == bool(plain_start.fullmatch(c)), hex(code)
        assert bool(rest.fullmatch(c)) == bool(plain_rest.fullmatch(c)), hex(code)
