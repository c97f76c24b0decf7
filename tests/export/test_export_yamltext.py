"""Export's own YAML emitter (export/pg/yamltext.py) writes exactly what PyYAML with libyaml's
emitter writes, for generated and hostile documents, and on a real export; it writes the
common documents itself instead of handing them to PyYAML."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reconciler.export.pg import yamltext
from reconciler.export.pg.yamltext import Block, YamlText, pyyaml_text
from tests.helpers import run_cli

# Strings that exercise every rule of libyaml's scalar analysis and writers: resolvers (plain
# text that would read back as another type), indicators first and inside, spaces and breaks
# at the ends and next to each other, characters it will not write unquoted, long words and
# long sentences around the 100-column fold, quotes to double.
HOSTILE = [
    "plain",
    "",
    " ",
    "  ",
    "\n",
    "\n\n",
    "a\n",
    "a\n\n",
    "\na",
    "a\n\nb",
    "a \nb",
    "a\n b",
    " a",
    "a ",
    "a  b",
    "yes",
    "No",
    "on",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "0",
    "-1",
    "+1",
    "0123",
    "0o17",
    "0x1F",
    "1_000",
    "1.5",
    "1e3",
    ".5",
    ".inf",
    "-.Inf",
    ".NaN",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "=",
    "<<",
    "---",
    "--- x",
    "...",
    "-",
    "- x",
    "-x",
    "?",
    "? x",
    "?x",
    ":",
    ": x",
    ":x",
    "a:",
    "a: b",
    "a:b",
    "a :b",
    "#x",
    "a #b",
    "a#b",
    "a\t#b",
    ",x",
    "x,y",
    "[x]",
    "x[0]",
    "{x}",
    "&x",
    "*x",
    "!x",
    "|x",
    ">x",
    "'x'",
    "it's",
    "''",
    '"x"',
    'say "x"',
    "%x",
    "@x",
    "`x`",
    "tab\there",
    "\ttab",
    "bell\x07",
    "nul\x00",
    "cr\r",
    "cr\rlf\n",
    "del\x7f",
    "nel\x85",
    "nbsp\xa0",
    "ünïcödé ✓ 名前",
    "\ufeffbom",
    "\ufffd",
    "\uffff",
    "\ue000",
    "\ud7ff",
    "astral 😀",
    "line\u2028sep",
    "para\u2029sep",
    "'{}'::jsonb",
    "'pending'::public.status_0000",
    "((amount >= (0)::numeric) AND (quantity >= 0))",
    "nextval('public.t_id_seq'::regclass)",
    "multi\nline\ntext",
    "multi\nline with trailing space \n",
    " SELECT a,\n    b\n   FROM t;",
    "BEGIN\n  RETURN 1;\nEND;\n",
    "BEGIN\n\tRETURN 1;\nEND;",
    "x" * 99,
    "x" * 100,
    "x" * 101,
    "x" * 150,
    " ".join(["word"] * 40),
    " ".join(["it's"] * 40),
    "  ".join(["word"] * 40),
    "word " * 30,
    " " + "word " * 30 + "end",
    "\n".join([" ".join(["word"] * 30)] * 3),
    "a" * 95 + " b c d e f g h",
    "a" * 95 + "  b  c  d",
    "k" * 129,
    "é" * 65,
]

_OPTIONS = {"max_examples": 400, "deadline": None}


def _same(doc: dict) -> YamlText:
    writer = YamlText()
    assert writer.text(doc) == pyyaml_text(doc)
    return writer


def test_libyaml_writes_what_the_export_documents():
    """The reference itself: PyYAML here has libyaml, the emitter the exports were made with."""
    assert yamltext.DUMPER is yaml.CSafeDumper


def test_each_hostile_string_in_every_place_a_scalar_goes():
    for text in HOSTILE:
        for value in (text, Block(text)):
            _same({"comment": value})
            _same({"a_rather_long_key_name_of_forty_chars_xx": value})
            _same({"items": [value, value + "x"]})
            _same({"columns": [{"name": "c", "comment": value, "default": value}]})
            _same({"t": {"u": [{"v": [[value]], "w": {"deep": value}}]}})
            _same({"list": [[value], {"k": value}]})
        _same({text: 1})
        _same({"m": {text: [text], "n": 1}})
        _same({"seq": [{text: text}]})


def test_long_text_folds_at_every_starting_column():
    sentence = " ".join(f"w{i}" for i in range(60))
    variants = [sentence, sentence + " x", "'" + sentence, "'" + sentence + " x'", "x" * 99 + " y"]
    variants += [sentence + "\nnext line", Block(sentence), Block(sentence + " x")]
    for pad in range(0, 60):
        for value in variants:
            _same({"k" * (pad + 1): value})
            _same({"seq": [{"k" * (pad + 1): [value]}]})


def test_text_that_ends_near_the_width():
    """Each way a line can end around column 100: a last word of one letter, double and
    trailing spaces (single-quoted), quotes to double, at every column it can start at."""
    tails = (" y", "  y", " ", "  ", " y ", " 'y", "' y")
    texts = [head + "x" * n + tail for n in range(60, 101) for tail in tails for head in ("", "'")]
    for pad in range(0, 30):
        key = "k" * (pad + 1)
        for text in texts:
            _same({key: text, "seq": [{key: text}]})
    for length in range(95, 130):  # a key of up to 128 bytes is still written before its value
        for text in (" x y", "x y", " x", "'x y", "it's a b"):
            _same({"k" * length: text})


def test_the_common_documents_never_go_to_pyyaml():
    """What export writes for ordinary objects (names, types, quoted defaults, long and
    multi-line comments, view and function bodies) is written by the emitter itself: only a
    scalar libyaml double-quotes, and what is listed in yamltext.py, goes to PyYAML."""
    table = {
        "table": "orders",
        "schema": "sales",
        "comment": "Orders placed: one row per order, # and ' included. " * 4,
        "columns": [
            {"name": "id", "type": "uuid", "nullable": False, "default": "gen_random_uuid()"},
            {"name": "n", "type": "integer", "default": "0"},
            {"name": "state", "type": "text", "default": "'new'::text", "comment": "a\nb"},
            {"name": "yes", "type": "boolean", "sequence_options": {"start": 10, "cycle": True}},
        ],
        "primary_key": {"name": "orders_pkey", "columns": ["id"]},
        "checks": [{"name": "ck", "expression": "(n >= 0)"}],
        "indexes": [{"name": "ix", "columns": ["n", {"column": "id", "order": "desc"}]}],
        "grants": [{"role": "public", "privileges": ["select"]}],
        "empty": [],
        "none": {},
        "unset": None,
    }
    view = {"views": [{"name": "v", "query": Block(" SELECT 1 AS x,\n    2 AS y;")}]}
    function = {"functions": [{"name": "f", "body": Block("BEGIN\n  RETURN 1;\nEND;\n")}]}
    writer = YamlText()
    for doc in (table, view, function):
        assert writer.text(doc) == pyyaml_text(doc)
    assert writer.fallbacks == 0
    for doc in ({"c": "tab\there"}, {"c": Block("a \nb")}, {"c": 1.5}, {"c": ("t",)}):
        assert writer.text(doc) == pyyaml_text(doc)
    assert writer.fallbacks == 4
    with pytest.raises(yaml.representer.RepresenterError):
        writer.text({"c": object()})  # as export always did: PyYAML refuses what it cannot write
    shared = ["select"]
    assert _same({"a": shared, "b": shared}).fallbacks == 1  # PyYAML writes an alias
    grant = {"role": "public"}
    assert _same({"grants": [grant, grant]}).fallbacks == 1


_TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(
        alphabet=st.sampled_from(list(" \n\t'\"#:-?,[]{}&*!|>%@`~=.<0123456789aZé✓😀\u2028\xa0")),
        max_size=30,
    ),
    st.text(max_size=20),
    st.lists(st.sampled_from(["word", "it's", "a:", "#", "x" * 30, ""]), max_size=40).map(" ".join),
)
_SCALAR = st.one_of(
    _TEXT,
    _TEXT.map(Block),
    st.booleans(),
    st.none(),
    st.integers(),
)
_KEY = st.one_of(st.sampled_from(["name", "type", "comment", "columns", "x" * 45]), _TEXT)
_DOC = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(_KEY, inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(**_OPTIONS, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEY, _DOC, min_size=1, max_size=5))
@example({"k": ["a", [], {}, [[]], [{}], {"x": []}]})
@example({"": "", "a": [""]})
def test_generated_documents_are_written_as_pyyaml_writes_them(doc):
    _same(doc)


@settings(**_OPTIONS)
@given(st.text(max_size=300), st.integers(min_value=0, max_value=70))
def test_any_text_at_any_column(text, pad):
    _same({"k" * (pad + 1): text, "seq": [text, Block(text)], "b": Block(text)})


def test_a_real_export_writes_each_file_as_pyyaml_would(pg_conn, pg_url, tmp_path, monkeypatch):
    """On a real server: names, comments, defaults, bodies and labels that need every style;
    each document the export writes is checked against PyYAML as it is written."""
    pg_conn.execute(
        """
        CREATE TYPE "mood: x" AS ENUM ('yes', 'null', '123', '', ' spaced ', 'it''s', '#');
        CREATE TABLE "odd table" (
            id integer PRIMARY KEY,
            "col: name" text DEFAULT 'it''s: #1' NOT NULL,
            " lead" text DEFAULT '',
            tabbed text DEFAULT E'a\\tb',
            mood "mood: x" DEFAULT 'yes',
            amount numeric(12,2) CHECK (amount >= 0 AND amount < 1000000000
                AND amount <> 42 AND amount <> 4242 AND amount <> 424242 AND amount <> 4242424)
        );
        COMMENT ON TABLE "odd table" IS E'Line one: the first\\nline two # not a comment\\n';
        COMMENT ON COLUMN "odd table".id IS 'trailing space ';
        COMMENT ON COLUMN "odd table"."col: name" IS
            'A long comment, long enough that libyaml folds it at a space past the hundredth '
            'column of its line';
        COMMENT ON COLUMN "odd table".tabbed IS E'tab\\there and an emoji 😀';
        CREATE VIEW "odd view" AS SELECT id, "col: name" FROM "odd table" WHERE id > 0;
        CREATE FUNCTION f_spaces() RETURNS integer LANGUAGE sql AS E'SELECT 1 \\n';
        CREATE FUNCTION f_plain() RETURNS integer LANGUAGE plpgsql AS
            E'\\nBEGIN\\n  RETURN 1;\\nEND;\\n';
        CREATE SEQUENCE "yes" START 5;
        """
    )
    writers: list[YamlText] = []
    checked: list[str] = []
    real_text = YamlText.text

    def text_checked(self: YamlText, doc: dict) -> str:
        if self not in writers:
            writers.append(self)
        out = real_text(self, doc)
        assert out == pyyaml_text(doc)
        checked.append(out)
        return out

    monkeypatch.setattr(YamlText, "text", text_checked)
    r = run_cli("export", "--pg", pg_url, "--out", str(tmp_path / "out"))
    assert r.code == 0, r.text
    files = sorted((tmp_path / "out").rglob("*.yaml"))
    assert sorted(p.read_text("utf-8") for p in files) == sorted(checked)
    assert len(writers) == 1
    # the table (a tab in a default) and one function (a space before a line break) need
    # double quotes: PyYAML writes those two; the emitter writes every other file
    assert writers[0].fallbacks == 2, [p.name for p in files]
    assert len(files) >= 7


def test_unprintable_is_every_code_point_libyaml_does_not_print():
    """libyaml's IS_PRINTABLE: LF, ASCII printable, the BMP but surrogates, U+FEFF, U+FFFE and
    U+FFFF; nothing astral. The class is spelled as what it leaves out: checked code point by
    code point against that definition."""

    def printable(code: int) -> bool:
        return (
            code == 0x0A
            or 0x20 <= code <= 0x7E
            or 0xA0 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFEFE
            or 0xFF00 <= code <= 0xFFFD
        )

    wrong = [
        code
        for code in range(0x110000)
        if bool(yamltext._UNPRINTABLE.match(chr(code))) == printable(code)
    ]
    assert wrong == []
