"""export --redis inference on generated keyspaces (no server): whatever the keys, the patterns
load, and each live pattern matches exactly the keys it says it covers."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reconciler.export.redis.fold import Entry, infer
from reconciler.export.redis.infer import PatternTable
from reconciler.export.redis.write import _file_names, _grouped, _loadable_texts
from reconciler.model.keypattern import first_literal, parse, pattern_regex, specificity, within

WORDS = ["app", "session", "cache", "user", "queue", "emails", "wait", "meta", "face", "x"]

segment = st.one_of(
    st.sampled_from(WORDS),
    st.integers(0, 10**12).map(str),
    st.integers(0, 2**64).map(lambda n: f"{n:016x}"),
    st.integers(0, 2**128 - 1).map(lambda n: str(uuid.UUID(int=n))),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["", "{t1}", "a*b", "ümlaut", "worker-3.internal", "bob@example.com"]),
    st.sampled_from(["10.0.0.1", "10.0.0.2", "1.2.3.4deadbeef", "k", "node-1.internal"]),
    st.tuples(st.sampled_from(["user_", "meta-", "v"]), st.integers(0, 999)).map(
        lambda p: f"{p[0]}{p[1]}"
    ),
    st.text("abcxyz019-_./ ", min_size=1, max_size=12),
)
key = st.lists(segment, min_size=1, max_size=5).map(":".join)
keyspace = st.lists(
    st.tuples(
        key, st.sampled_from(["string", "hash", "list", "zset"]), st.sampled_from([-1, 5000])
    ),
    min_size=1,
    max_size=120,
)


def _owner(key: str, live: list[Entry]) -> Entry | None:
    """The pattern a plan counts the key for: its namespace's patterns first (the loader's
    precedence), then those starting with a placeholder; within either, the most specific."""
    first = key.split(":", 1)[0]
    own = [e for e in live if first_literal(e.text) == first]
    loose = [e for e in live if first_literal(e.text) is None]
    for group in (own, loose):
        matched = [e for e in group if pattern_regex(e.text).match(key)]
        if not matched:
            continue
        # One lying strictly within another comes first: the most specific, never a tie.
        ranked = sorted(matched, key=lambda e: -specificity(parse(e.text)))
        if len(ranked) > 1:
            assert within(ranked[0].template, ranked[1].template), (key, ranked)
            assert not within(ranked[1].template, ranked[0].template), (key, ranked)
        return ranked[0]
    return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keyspace, st.sampled_from([3, 64]))
@example(  # more names than max_literals beside the empty key, which no placeholder matches
    keys=[(k, "string", -1) for k in ("app", "session", "cache", "")], max_literals=3
)
@example(  # `x:{ip}:k` is left out; `x:{a:int}.{b:int}.{c:int}.{d:hex}:k` matches its keys
    keys=[(f"x:10.0.0.{n}:k", "string", -1) for n in range(1, 6)]
    + [(f"x:k:node-{n}.internal", "string", -1) for n in range(1, 9)]
    + [("x:1.2.3.4deadbeef:k", "string", 600_000)],
    max_literals=64,
)
def test_every_live_pattern_loads_and_covers_exactly_its_keys(
    keys: list[tuple[str, str, int]], max_literals: int
) -> None:
    unique = {k: (t, ttl) for k, t, ttl in keys}  # a keyspace holds each key once
    table = PatternTable(max_literals)
    for k, (t, ttl) in unique.items():
        table.add(k, t, ttl)
    entries = infer(table)
    assert sum(e.summary.count for e in entries) == len(unique)

    groups = _grouped(entries)
    left_out = {id(e): e.problem for e in entries if e.problem is not None}
    _loadable_texts(groups, _file_names(groups, set()), "", {})
    refused = {id(e): e.problem for e in entries if e.problem is not None}
    assert refused == left_out, "the loader refused a pattern inference called disjoint"
    live = [e for e in entries if e.problem is None]

    counted: dict[int, int] = {}
    for k in unique:
        owner = _owner(k, live)
        if owner is not None:
            counted[id(owner)] = counted.get(id(owner), 0) + 1
    for e in live:
        assert counted.get(id(e), 0) == e.summary.count, (e.text, sorted(unique))
    placed = sum(e.summary.count for e in live)
    assert sum(counted.values()) == placed


def test_a_pattern_left_out_inside_a_live_one_is_taken_in_not_lost() -> None:
    """`sess:ab-{id:int}-cd` lies within `sess:{token}` but a plan could not tell its keys
    from the tokens' (too many to hold): rather than leave both out (420 keys unplaced), the
    general pattern takes the stray key in."""
    table = PatternTable()
    for n in range(50):
        table.add(f"sess:k{n:02d}Ab3dEf6hIj9kLm2nOp5q", "string", 3_600_000)
    table.add("sess:ab-7-cd", "string", -1)
    [entry] = infer(table)
    assert (entry.text, entry.summary.count, entry.problem) == ("sess:{token}", 51, None)
