"""The quick line reader (project/yamllines.py) and the lean YAML loop (project/yamlplain.py)
read every file they accept exactly as the careful one (yamlload._Composer) does — values,
BoolText, the line of every value and key — and hand every file using anything else on."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.project import yamllines, yamlload, yamlplain
from reconciler.project.yamlload import YamlError, load_bytes

REPO = Path(__file__).resolve().parents[2]
CORPUS_DIRS = ("tests", "examples", "schemas", "docs", "bench", ".github")


def careful(raw: bytes) -> yamlload.Loaded | YamlError:
    loader = yamlload._Loader(yamlload._decode(raw))
    try:
        return yamlload._Composer(loader).run()
    except YamlError as exc:
        return exc
    finally:
        loader.dispose()


def lean(raw: bytes) -> yamlload.Loaded | None:
    """The lean loop's reading, None when it hands the file back."""
    loader = yamlload._Loader(yamlload._decode(raw))
    try:
        return yamlplain.plain(loader)
    except Exception:
        return None
    finally:
        loader.dispose()


def quick(raw: bytes) -> yamlload.Loaded | None:
    """The quick line reader's reading, None when it hands the file on."""
    try:
        return yamllines.read(yamlload._decode(raw))
    except yamlplain._Unusual:
        return None


def same(a: yamlload.Loaded, b: yamlload.Loaded) -> bool:
    def typed(value):  # BoolText == str by value: compare the types too
        if isinstance(value, dict):
            return {k: typed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [typed(v) for v in value]
        return (type(value).__name__, value)

    return (
        typed(a.data) == typed(b.data)
        and list(a.data or ()) == list(b.data or ())  # key order too
        and a.marks.nodes == b.marks.nodes
        and a.marks.keys == b.marks.keys
        and a.problems == b.problems
    )


def repo_yaml() -> list[Path]:
    found: list[Path] = []
    for top in CORPUS_DIRS:
        if (REPO / top).is_dir():
            found += sorted((REPO / top).rglob("*.yaml")) + sorted((REPO / top).rglob("*.yml"))
    return found


def test_every_yaml_file_in_the_repository_reads_the_same_both_ways():
    files = repo_yaml()
    assert len(files) > 100, "the corpus of YAML files went missing"
    lean_read = quick_read = 0
    for path in files:
        raw = path.read_bytes()
        try:
            expected = careful(raw)
        except (yaml.YAMLError, YamlError):
            continue  # not YAML, or not UTF-8: load_bytes' error path, the careful loop's alone
        got = quick(raw)
        if got is not None:
            quick_read += 1
            assert isinstance(expected, yamlload.Loaded), f"{path}: quick read what careful refused"
            assert same(got, expected), path
        got = lean(raw)
        if got is None:
            continue
        lean_read += 1
        assert isinstance(expected, yamlload.Loaded), f"{path}: lean read what careful refused"
        assert same(got, expected), path
        assert same(load_bytes(raw), expected), path
    assert lean_read > 100, "the lean loop accepted almost nothing"
    assert quick_read > 100, "the quick reader accepted almost nothing"


HANDED_BACK = {
    "anchor and alias": "a: &x [1]\nb: *x\n",
    "explicit tag": "a: !!str 5\n",
    "custom tag": "a: !thing 5\n",
    "tag on a list": "a: !!seq [1]\n",
    "repeated key": "a: 1\nb: 2\na: 3\n",
    "merge key": "base: {a: 1}\nother:\n  <<: {b: 2}\n",
    "merge value": "a: <<\n",
    "value key": "a: =\n",
    "second document": "a: 1\n---\nb: 2\n",
    "root scalar": "just text\n",
    "list as a key": "? [a, b]\n: 1\n",
    "too deep": "a: " + "[" * 70 + "]" * 70 + "\n",
    "alias to a scalar": "a: &n 5\nb: *n\n",
    "syntax error": "a: [1, 2\nb: 3\n",
    "tab indentation": "a:\n\tb: 1\n",
}


def outcome(raw: bytes):
    try:
        return load_bytes(raw)
    except YamlError as exc:
        return (exc.line, exc.message)


@pytest.mark.parametrize("text", HANDED_BACK.values(), ids=HANDED_BACK.keys())
def test_unusual_files_are_handed_to_the_careful_loop(text, monkeypatch):
    raw = text.encode()
    assert lean(raw) is None
    assert quick(raw) is None
    got = outcome(raw)

    def off(loader):
        raise yamlplain._Unusual

    monkeypatch.setattr(yamlplain, "plain", off)
    expected = outcome(raw)  # load_bytes with the careful loop alone
    if isinstance(expected, tuple):
        assert got == expected
    else:
        assert isinstance(got, yamlload.Loaded) and same(got, expected)


# Scalars that YAML 1.1 reads as something other than text, and text that looks like them.
TRICKY = [
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "yes",
    "No",
    "ON",
    "off",
    "true",
    "False",
    "y",
    "n",
    "0",
    "007",
    "1.10",
    "1e3",
    ".inf",
    "-.NaN",
    "0x1F",
    "0o17",
    "1_000",
    "12:30:00",
    "2024-01-02",
    "2024-01-02T03:04:05Z",
    "+1",
    "-",
    "a: b",
    "#x",
    "it's",
    'say "hi"',
    "  padded ",
    "line\nbreak",
    "ünïcode",
    "=",
    "<<",
    "@at",
    "%pct",
    "*star",
    "&amp",
    "!bang",
]
keys = st.one_of(st.sampled_from(TRICKY), st.text(string.ascii_letters + "_-. ", max_size=8))
scalars = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12), st.none(), st.booleans())
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=documents,
    flow=st.sampled_from([False, True, None]),
    style=st.sampled_from([None, "'", '"']),
)
def test_generated_documents_read_the_same_both_ways(doc, flow, style):
    text = yaml.safe_dump(
        {"root": doc}, default_flow_style=flow, default_style=style, allow_unicode=True
    )
    raw = text.encode()
    got = lean(raw)
    expected = careful(raw)
    if got is not None:
        assert isinstance(expected, yamlload.Loaded)
        assert same(got, expected), text
    got = quick(raw)
    if got is not None:
        assert isinstance(expected, yamlload.Loaded)
        assert same(got, expected), text
    result = load_bytes(raw) if isinstance(expected, yamlload.Loaded) else None
    if result is not None:
        assert same(result, expected), text


# Lines the quick reader takes, and lines it must hand on (YAML reads them otherwise: more
# than the text, an error, or a scalar over several lines): either way, the same result.
LINE_CASES = [
    "a: 1\nb: two\n",
    "a:  spaced   \nb: 'it''s'\nc: \"quoted\"\nd: ''\ne: \"\"\n",
    "a:\n- x\n- y\nb:\n  - z\n",
    "- a\n- b: 1\n  c: 2\n-   d: 3\n    e: 4\n",
    "---\na: 1\n",
    "a: 1\n...\n",
    "a:\n  b:\n    c: 1\n  d: 2\ne:\n",
    "a:\nb:\n",
    "a: 1\n  b: 2\n",
    "a: b\n  c\n",
    "a: - b\n",
    "a: b:\n",
    "a: b: c\n",
    "a:b\n",
    "a:b: c\n",
    "- - a\n",
    "-\n",
    "a: value # comment\n",
    "a:  # comment\n  b: 1\n",
    "# head\na: 1 #not a comment? yes it is\n",
    "a: x#y\n",
    "'a': 1\n",
    "? a\n: 1\n",
    "a: [1]\nb: {}\n",
    "a: |\n  text\n",
    "a: >-\n  text\n",
    "a: -1\nb: -x\nc: --\n",
    "a: 'open\n  close'\n",
    'a: "esc\\tape"\n',
    "a: 1\r\nb: 2\r\n",
    "\ufeffa: 1\n",
    "a: \u2028\n",
    "a: \x85\n",
    "on: yes\nno: off\n~: ~\nnull: Null\n",
    "a: <<\n",
    "<<: 1\n",
    "a: =\n",
    "a: 1\na: 2\n",
    "a: 'x' \nb: y  \n",
    "a:\n\n  b: 1\n\n\nc: 2\n",
    "   a: 1\n   b: 2\n",
    "a:\n    - 1\n    - 2\n  \n",
    "a:\n- b: 1\n- 2\nc: 3\n",
    "a:\n  - b:\n    - c\n",
    "a:\n  - b:\n      - c\n    d: 1\n",
    "a: ünï ☃ 𝄞\n",
    "key with spaces: 1\nkey : 2\n",
    "a: 'x'y'\n",
    'a: "x\n',
    "a: '\n",
    "",
    "# only a comment\n",
    "---\n",
    "- a\nb: 1\n",
    "a: 1\n- b\n",
    "a:\n  b: 1\n c: 2\n",
    "@a: 1\n",
    "a: `b`\n",
    "a: %b\n",
    "a: !b\n",
    "a: &b c\n",
    "a: *b\n",
    "a: ,b\n",
    "a: ?b\n",
    "a: :b\n",
    "a: ? b\n",
]


@pytest.mark.parametrize("text", LINE_CASES)
def test_the_quick_reader_reads_a_line_as_yaml_does_or_hands_it_on(text):
    raw = text.encode()
    try:
        expected = careful(raw)
    except yaml.YAMLError:
        expected = None  # an error: load_bytes says it (the careful loop's path alone)
    got = quick(raw)
    if got is not None:
        assert isinstance(expected, yamlload.Loaded), text
        assert same(got, expected), text
    if isinstance(expected, yamlload.Loaded):
        assert same(load_bytes(raw), expected), text


# Files built from lines of the shapes the quick reader handles, and their near misses.
_KEY = st.sampled_from(["a", "b", "name", "on", "1", "a b", "a:b", "-a", "x#", "<<", "'q'"])
_VALUE = st.sampled_from([*TRICKY, "'q'", "'it''s'", '"d"', "-1", "a # c", "[1]", "x:", ""])
_LINE = st.tuples(
    st.sampled_from([0, 0, 2, 2, 4, 1, 3]),
    st.sampled_from(["", "", "- ", "-  ", "#"]),
    _KEY,
    st.sampled_from([": ", ":", ":  ", " : ", ""]),
    _VALUE,
    st.sampled_from(["", "", " ", "  "]),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_LINE, min_size=1, max_size=12))
def test_files_of_lines_read_by_the_quick_reader_read_the_same_as_yaml(lines):
    text = "".join(
        " " * indent + dash + key + sep + (value if sep else "") + tail + "\n"
        for indent, dash, key, sep, value, tail in lines
    )
    raw = text.encode()
    got = quick(raw)
    if got is None:
        return
    expected = careful(raw)  # a YAML error here: the quick reader read what YAML refuses
    assert isinstance(expected, yamlload.Loaded), text
    assert same(got, expected), text


# What YAML refuses that a line, read alone, seems to allow: a flow collection past the depth
# limit, a key past the 1,024 characters of a simple key, an empty key.
_DEEP = "".join(" " * i + "k:\n" for i in range(63)) + " " * 63
REFUSED = {
    "flow list past the depth": _DEEP + "k: []\n",
    "flow mapping past the depth": _DEEP + "k: {x: 1}\n",
    "flow item past the depth": _DEEP + "k:\n" + " " * 64 + "- [a]\n",
    "long key": "k" * 1025 + ": v\n",
    "long key after another": "a: 1\n" + "k" * 1025 + ": v\n",
    "long key of an item": "- " + "k" * 1025 + ": v\n",
    "long key of a mapping": "k" * 1025 + ":\n  b: 1\n",
    "long key in a flow mapping": "a: {" + "k" * 1025 + ": v}\n",
    "long key of accented letters": "\u00e9" * 1025 + ": v\n",
    "empty key": ": a\n",
    "empty key alone": ":\n",
    "empty key of an item": "- : a\n",
    "empty key in a flow mapping": "a: {: b}\n",
    "empty key in a flow item": "- {: a}\n",
}


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_what_yaml_refuses_the_quick_reader_hands_on(text):
    raw = text.encode()
    try:
        yamllines.read(text)
    except yamlplain._Unusual:
        pass
    else:
        raise AssertionError(f"the quick reader read {text[:60]!r}")
    with pytest.raises(YamlError):
        load_bytes(raw)


@pytest.mark.parametrize("length", [512, 513, 1024])
def test_a_long_key_yaml_allows_is_read_as_yaml_reads_it(length):
    raw = ("k" * length + ": v\n").encode()
    expected = careful(raw)
    assert isinstance(expected, yamlload.Loaded) and same(load_bytes(raw), expected)
    assert (quick(raw) is None) == (length > 512)  # longer ones are handed on
