"""The pieces a large Redis plan is written from: the spilled keys, their lines, the JSON.

Each is compared with what it replaces (a sorted list, a tuple of lines, json.dumps), on
inputs small enough to read and, with the spill thresholds lowered, on disk as well.
"""

from __future__ import annotations

import json
import random

import pytest

from reconciler.model import keyfixes
from reconciler.model.keyfixes import KeyFixes, fixes_of
from reconciler.model.redis import KeyFix
from reconciler.ops.redis import lines as lines_mod
from reconciler.ops.redis.changes import ExpireKeys
from reconciler.ops.redis.lines import Lines
from reconciler.plan import PlannedChange, jsontext


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spill after 7 keys, 3 keys a block: a few dozen keys make many runs on disk."""
    monkeypatch.setattr(keyfixes, "RUN", 7)
    monkeypatch.setattr(keyfixes, "BLOCK", 3)
    monkeypatch.setattr(lines_mod, "CACHE_OVER", 4)


def _fixes(n: int, seed: int = 1) -> list[KeyFix]:
    rnd = random.Random(seed)
    kinds = ("string", "hash")
    # duplicate keys (SCAN may return a key twice) keep the order they were appended in
    keys = [f"app:k:{rnd.randrange(n // 2 + 1)}\udcff\u00e9" for _ in range(n)]
    return [KeyFix(k, rnd.choice((-1, 1_700_000_000_000 + i)), rnd.choice(kinds)) for i, k in
            enumerate(keys)]  # fmt: skip


@pytest.mark.parametrize("n", [0, 1, 6, 7, 8, 50, 301])
def test_spilled_fixes_read_back_as_the_sorted_list(small_runs: None, n: int) -> None:
    fixes = _fixes(n)
    spill = KeyFixes()
    for f in fixes:
        spill.append(f)
    assert spill.spilled == (n >= 7)
    want = sorted(fixes, key=lambda k: k.key)  # stable: what the plan sorted before
    assert list(spill) == want
    assert list(spill) == want  # read again, after the runs were merged into one
    assert len(spill) == n
    spill.append(KeyFix("a:first", -1, "hash"))  # appended after a reading: merged again
    assert list(spill) == sorted([*fixes, KeyFix("a:first", -1, "hash")], key=lambda k: k.key)
    view = fixes_of(spill, "hash")
    hashes = [f for f in want if f.type == "hash"]
    assert len(view) == len(hashes) + 1
    assert view.without_ttl == sum(1 for f in hashes if f.pexpiretime < 0) + 1


def test_fixes_added_from_another_node(small_runs: None) -> None:
    a, b = _fixes(20, 1), _fixes(30, 2)
    into = KeyFixes(a)
    into += KeyFixes(b)
    assert list(into) == sorted([*a, *b], key=lambda k: k.key)


def test_lines_equal_the_tuple_and_are_read_back_from_their_cache(small_runs: None) -> None:
    spill = KeyFixes(_fixes(40))
    change = ExpireKeys("app:k:{id}", 60, fixes_of(spill, "string"))
    want = tuple(s.sql for s in change.statements())
    lines = change.command_lines()
    assert isinstance(lines, Lines) and len(lines) == len(want) > lines_mod.CACHE_OVER
    assert tuple(lines) == want  # the first reading renders (and keeps) them
    assert lines._cache is not None
    assert lines == want and list(lines) == list(want)  # read back from the cache
    assert all(a == b for a, b in zip(lines, lines, strict=True))  # two readers at once
    assert lines[0] == want[0] and lines[-1] == want[-1] and lines[2:5] == want[2:5]
    assert lines + ("x",) == (*want, "x")  # noqa: RUF005 (what rollback code does)


def test_a_planned_change_of_lines_is_the_planned_change_of_its_statements(
    small_runs: None,
) -> None:
    change = ExpireKeys("app:k:{id}", 60, fixes_of(KeyFixes(_fixes(40)), "hash"))
    streamed = PlannedChange.from_change(change)
    assert isinstance(streamed.up, Lines) and isinstance(streamed.down, Lines)
    held = PlannedChange.from_change(ExpireKeys("app:k:{id}", 60, tuple(change.keys)))
    assert isinstance(held.up, Lines)  # every TTL change streams; a tuple is read the same
    assert streamed.to_dict() == held.to_dict()
    as_text = {
        k: tuple(v) if isinstance(v, Lines) else v for k, v in streamed.to_dict(lazy=True).items()
    }
    assert as_text == {**held.to_dict(), "up": tuple(held.up), "down": tuple(held.down)}
    assert streamed.to_dict()["details"][1] == {"attribute": "key_types", "type": "hash"}


def _value(rnd: random.Random, depth: int = 0):
    roll = rnd.random()
    if depth > 3 or roll < 0.4:
        return rnd.choice(
            ["", 'a"b\\c\n\u00e9\u2028', "\udcff", 0, -7, 3.25, 1e300, True, False, None, "x"]
        )
    if roll < 0.7:
        return [_value(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    return {
        rnd.choice(["b", "a", "é", "c d", "z"]) + str(i): _value(rnd, depth + 1)
        for i in range(rnd.randrange(4))
    }


@pytest.mark.parametrize("seed", range(40))
def test_json_pieces_are_json_dumps(seed: int) -> None:
    value = _value(random.Random(seed))
    for indent in (None, 0, 2):
        for sort_keys in (False, True):
            want = json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=False)
            got = "".join(jsontext.chunks(value, indent, sort_keys=sort_keys))
            assert got == want


def test_json_pieces_write_lines_as_their_list_and_refuse_what_json_refuses(
    small_runs: None,
) -> None:
    lines = Lines([1, 2, 3, 4, 5, 6], lambda k: f'EXPIRE "k{k}" "1"')
    doc = {"up": lines, "n": (1, 2), "empty": Lines([], str)}
    want = {"up": list(lines), "n": [1, 2], "empty": []}
    assert "".join(jsontext.chunks(doc, 2)) == json.dumps(want, indent=2)
    with pytest.raises(TypeError):
        "".join(jsontext.chunks({"x": {1, 2}}, 2))
    with pytest.raises(TypeError):
        json.dumps({"up": lines})  # a lazy dict never reaches json.dumps unnoticed
