"""The lean YAML loop (project/yamlload.py _plain) reads every file it accepts exactly as the
careful one (_Composer) does — values, BoolText, the line of every value and key — and hands
every file using anything else back to it."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.project import yamlload, yamlplain
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
    lean_read = 0
    for path in files:
        raw = path.read_bytes()
        try:
            expected = careful(raw)
        except (yaml.YAMLError, YamlError):
            continue  # not YAML, or not UTF-8: load_bytes' error path, the careful loop's alone
        got = lean(raw)
        if got is None:
            continue
        lean_read += 1
        assert isinstance(expected, yamlload.Loaded), f"{path}: lean read what careful refused"
        assert same(got, expected), path
        assert same(load_bytes(raw), expected), path
    assert lean_read > 100, "the lean loop accepted almost nothing"


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
    result = load_bytes(raw) if isinstance(expected, yamlload.Loaded) else None
    if result is not None:
        assert same(result, expected), text
