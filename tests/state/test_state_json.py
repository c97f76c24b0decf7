"""The PostgreSQL state's jsonb values: orjson writes them, and they read back exactly as the
ones json.dumps wrote; what orjson would write otherwise goes through json.dumps."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.state import jsonb as jsonb_mod
from reconciler.state.postgres import PgState

_scalars = (
    st.text(max_size=10)
    | st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30])
    | st.floats(allow_nan=False, allow_infinity=False)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5) | st.integers(-3, 3), inner, max_size=4)
    ),
    max_leaves=25,
)


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@dataclasses.dataclass
class Point:
    x: int


def _outcome(dumps: Any, value: Any) -> tuple[str, Any]:
    try:
        return "json", json.loads(dumps(value))
    except (TypeError, ValueError) as e:
        return "refused", type(e).__name__


@settings(max_examples=300, deadline=None)
@given(_values)
def test_the_text_means_what_json_dumps_writes(value: Any) -> None:
    assert _outcome(jsonb_mod.json_bytes, value) == _outcome(json.dumps, value)


@pytest.mark.parametrize(
    "value",
    [
        {"colour": Colour.RED, "level": Level.HIGH},  # subclasses: json writes their value
        {1: "int key", None: "none key"},  # keys json turns into text, orjson refuses
        {"big": 2**70},
        {"at": datetime(2026, 1, 1, tzinfo=UTC)},  # json refuses it: so must we
        {"point": Point(1)},  # json refuses it: so must we
        {"text": "\ud800"},  # not Unicode: orjson refuses it, json escapes it
    ],
    ids=["subclasses", "keys", "big-int", "datetime", "dataclass", "surrogate"],
)
def test_what_orjson_would_write_otherwise_goes_through_json(value: Any) -> None:
    assert _outcome(jsonb_mod.json_bytes, value) == _outcome(json.dumps, value)


def test_an_inventory_reads_back_as_json_wrote_it(pg_conn: psycopg.Connection) -> None:
    from tests.state.test_state import V1, up

    inventory = {
        "pg.table.public.a": {"name": Colour.RED, "rev": Level.HIGH, "size": 2**70},
        "pg.column.public.a.b": {"ints": (1, 2), "keys": {1: "one"}, "pi": math.pi},
        "pg.table.public.ü": {"comment": "naïve — \u2028 \x00"[:-1], "none": None},
    }
    state = PgState(pg_conn)
    state.record_apply(up(V1), inventory)
    assert state.inventory() == json.loads(json.dumps(inventory))
