"""plan/jsontext.py indented(): the text of json.dumps(value, indent=2, ensure_ascii=False),
byte for byte, whether orjson writes it or json does (floats, huge integers, keys that are not
text, text that is not valid Unicode, other types); what json refuses it refuses too."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconciler.plan import jsontext

_text = st.text(
    st.characters(codec=None, categories=None, exclude_characters=()), max_size=12
) | st.sampled_from(["", "é", "\x00\x1f\x7f", "\u2028\u2029", "\ud800", '"\\\b\f\n\r\t', "🙂"])
_scalars = (
    _text
    | st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30])
    | st.floats(allow_nan=True, allow_infinity=True)
)
_keys = _text | st.integers(-3, 3) | st.booleans() | st.none()
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_keys, inner, max_size=4)
    ),
    max_leaves=30,
)


def _either(fn: Any, value: Any) -> tuple[str, Any]:
    try:
        return ("text", fn(value))
    except Exception as exc:  # both must refuse alike
        return ("error", type(exc).__name__)


@settings(max_examples=500, deadline=None)
@given(_values)
# where orjson and json write differently, or orjson refuses: each must go to json
@example([float("nan"), float("inf"), 1e-05, 1e16])
@example({"k": {1: "an integer key", None: "null", False: "a boolean"}})
@example(["\ud800 a lone surrogate"])
@example([2**63, 2**64, -(2**63) - 1, 10**30])
@example({"text": type("Text", (str,), {})("a str subclass")})
def test_indented_is_json_dumps_byte_for_byte(value: Any):
    expected = _either(lambda v: json.dumps(v, indent=2, ensure_ascii=False), value)
    assert _either(jsontext.indented, value) == expected


def test_a_plan_shaped_document_takes_the_fast_writer_and_the_same_bytes(monkeypatch):
    doc = {
        "version": "20261206000000",
        "changes": [
            {"address": f"pg.table.public.t{i}", "up": ["CREATE TABLE …;"], "hazards": []}
            for i in range(3)
        ],
        "summary": {"add": 3, "change": 0, "drop": 0},
        "target": {"server": "127.0.0.1:5432", "ok": True, "none": None},
    }
    calls = []
    real = jsontext.orjson.dumps
    monkeypatch.setattr(jsontext.orjson, "dumps", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert jsontext.indented(doc) == json.dumps(doc, indent=2, ensure_ascii=False)
    assert calls, "a plan's document should be written by orjson"


@settings(max_examples=300, deadline=None)
@given(_values)
@example(["\udcff\udcfe", {"\ud800": "\udfff x"}])
def test_utf8_pieces_are_the_same_json_and_encode_as_utf8(value: Any):
    """A plan's JSON text with lone surrogates escaped: the same value read back, and UTF-8."""
    try:
        pieces = list(jsontext.chunks(value, 2))
    except TypeError:
        return  # what json refuses is not a plan
    text = "".join(jsontext.utf8_pieces(pieces))
    text.encode("utf-8")  # raises on a lone surrogate left
    back, want = json.loads(text), json.loads(json.dumps(value))
    assert json.dumps(back, sort_keys=True) == json.dumps(want, sort_keys=True)  # NaN-proof
