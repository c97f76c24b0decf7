"""Redis introspection against real servers: the keyspace scan, config and ACL users.

Tests that must see every key, or change config/ACL, run on a private Redis of their own.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import subprocess
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from reconciler import dev
from reconciler.errors import ConnectionFailed, InputError, ReconcilerError
from reconciler.introspect.redis import (
    canonical_acl,
    cli_quote,
    connect_redis,
    key_bytes,
    key_text,
    read_acl,
    read_config,
    scan_keyspace,
)
from reconciler.introspect.redis import keys as redis_keys
from reconciler.introspect.redis import scan as redis_scan
from reconciler.model.redis import AclUser, ConfigParam, KeyFix, KeyPattern, KeyspaceReport


@pytest.fixture
def private(private_redis: dev.RedisServer) -> Iterator[redis.Redis]:
    client = connect_redis(private_redis.url(), command="test")
    yield client
    client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------- mixed keyspace

PATTERNS = [
    KeyPattern("app:session:{id}", "hash", key_class="session", ttl=86400, max_length=3),
    KeyPattern("app:session:admin", "string", ttl=60),  # more specific than the one above
    KeyPattern("app:cache:{id}", "string", key_class="cache", ttl=3600, max_bytes=300, prune=True),
    KeyPattern("app:queue:{name}", "list", key_class="queue", max_length=2),
    KeyPattern("app:rl:{ip}", "zset", key_class="ratelimit", ttl=60),
    KeyPattern("{tenant}:events:{id}", "stream"),
    KeyPattern("app:{entity}:{id}:meta", "hash"),
]


def _make(client: redis.Redis, key: str | bytes, kind: str, size: int = 1, **expiry: int) -> None:
    if kind == "string":
        client.set(key, "x" * size)
    elif kind == "hash":
        client.hset(key, mapping={f"f{i}": "v" for i in range(size)})
    elif kind == "list":
        client.rpush(key, *(f"e{i}" for i in range(size)))
    elif kind == "set":
        client.sadd(key, *(f"m{i}" for i in range(size)))
    elif kind == "zset":
        client.zadd(key, {f"m{i}": i for i in range(size)})
    elif kind == "stream":
        for i in range(size):
            client.xadd(key, {"n": i})
    if "ex" in expiry:
        client.expire(key, expiry["ex"])
    if "px" in expiry:
        client.pexpire(key, expiry["px"])


# (key, type, size, expiry) — comments say what each key is for.
KEYS: list[tuple[str, str, int, dict[str, int]]] = [
    ("app:session:1", "hash", 2, {"ex": 86400}),  # fine
    ("app:session:2", "hash", 1, {}),  # no TTL
    ("app:session:3", "hash", 1, {"ex": 200000}),  # TTL above policy
    ("app:session:4", "string", 1, {"ex": 100}),  # wrong type, TTL fine
    ("app:session:5", "hash", 5, {"ex": 100}),  # too long
    ("app:session:6", "string", 1, {}),  # wrong type and no TTL
    ("app:session:admin", "string", 1, {"ex": 60}),  # its own pattern
    ("app:cache:a", "string", 1, {"ex": 3600}),  # fine
    ("app:cache:b", "string", 1000, {"ex": 3600}),  # too many bytes
    ("app:cache:c", "list", 1, {}),  # wrong type of a prune pattern (and no TTL)
    ("app:cache:d", "string", 1, {}),  # no TTL
    ("app:queue:q1", "list", 2, {}),  # fine: queues need no TTL
    ("app:queue:q2", "list", 3, {"ex": 1000}),  # too long
    ("app:queue:q3", "stream", 3, {}),  # wrong type, and too long by XLEN
    ("app:rl:10.0.0.1", "zset", 1, {"ex": 60}),  # fine
    ("app:rl:10.0.0.2", "set", 1, {"ex": 60}),  # wrong type
    ("app:rl:10.0.0.3", "zset", 1, {"px": 61000}),  # within the 1 s tolerance
    ("app:rl:10.0.0.4", "zset", 1, {"px": 62500}),  # above it
    ("acme:events:1", "stream", 1, {}),  # pattern without a literal first segment
    ("app:events:2", "stream", 1, {}),  # the same, under a first segment other patterns use
    ("app:session:7:meta", "hash", 1, {}),  # {id} never spans a ':'
    ("app:session:1:extra:x", "string", 1, {}),  # matches nothing
    ("legacy:foo", "string", 1, {}),
    ("legacy:bar", "hash", 1, {}),
    ("legacy:baz:qux", "set", 1, {}),
    ("loosekey", "string", 1, {}),
    (":leadingcolon", "string", 1, {}),
]


def _load_mixed(client: redis.Redis) -> None:
    for key, kind, size, expiry in KEYS:
        _make(client, key, kind, size, **expiry)


def _comparable(report: KeyspaceReport) -> dict[str, Any]:
    """The report with its bounded lists as sets (their order is SCAN order)."""
    patterns = {
        name: {
            "count": s.count,
            "types": s.types,
            "type_mismatches": s.type_mismatches,
            "without_ttl": s.without_ttl,
            "ttl_above_policy": s.ttl_above_policy,
            "oversized": s.oversized,
            "examples": set(s.examples),
            "mismatch_examples": set(s.mismatch_examples),
            "fixes": {(f.key, f.type) for f in s.fixes},
            "prune": {(f.key, f.type, f.pexpiretime) for f in s.prune},
        }
        for name, s in report.patterns.items()
    }
    examples = {p: set(v) for p, v in report.unmatched_examples.items()}
    return {
        "scanned": report.scanned,
        "types": report.types,
        "patterns": patterns,
        "unmatched": report.unmatched,
        "unmatched_examples": examples,
    }


def _stats(count: int, types: dict[str, int], **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "count": count,
        "types": types,
        "type_mismatches": 0,
        "without_ttl": 0,
        "ttl_above_policy": 0,
        "oversized": 0,
        "examples": set(),
        "mismatch_examples": set(),
        "fixes": set(),
        "prune": set(),
    }
    base.update(kw)
    return base


def _expected_mixed() -> dict[str, Any]:
    return {
        "scanned": len(KEYS),
        "types": dict(Counter(kind for _, kind, _, _ in KEYS)),
        "patterns": {
            "app:session:{id}": _stats(
                6,
                {"hash": 4, "string": 2},
                type_mismatches=2,
                without_ttl=2,
                ttl_above_policy=1,
                oversized=1,
                mismatch_examples={"app:session:4", "app:session:6"},
                fixes={
                    ("app:session:2", "hash"),
                    ("app:session:3", "hash"),
                    # app:session:6 is a string: the wrong type gets no TTL step
                },
            ),
            "app:session:admin": _stats(1, {"string": 1}),
            "app:cache:{id}": _stats(
                4,
                {"string": 3, "list": 1},
                type_mismatches=1,
                without_ttl=2,
                oversized=1,
                mismatch_examples={"app:cache:c"},
                fixes={("app:cache:d", "string")},
                prune={("app:cache:c", "list", -1)},
            ),
            "app:queue:{name}": _stats(
                3,
                {"list": 2, "stream": 1},
                type_mismatches=1,
                oversized=2,
                mismatch_examples={"app:queue:q3"},
            ),
            "app:rl:{ip}": _stats(
                4,
                {"zset": 3, "set": 1},
                type_mismatches=1,
                ttl_above_policy=1,
                mismatch_examples={"app:rl:10.0.0.2"},
                fixes={("app:rl:10.0.0.4", "zset")},
            ),
            "{tenant}:events:{id}": _stats(2, {"stream": 2}),
            "app:{entity}:{id}:meta": _stats(1, {"hash": 1}),
        },
        "unmatched": {"app": 1, "legacy": 3, "loosekey": 1, "": 1},
        "unmatched_examples": {
            "app": {"app:session:1:extra:x"},
            "legacy": {"legacy:foo", "legacy:bar", "legacy:baz:qux"},
            "loosekey": {"loosekey"},
            "": {":leadingcolon"},
        },
    }


def _with_examples(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Examples are the first (up to 3) keys in SCAN order: check they are right, then adopt."""
    by_pattern = {p.pattern: p for p in PATTERNS}
    for name, stats in actual["patterns"].items():
        regex = by_pattern[name].regex
        assert len(stats["examples"]) == min(3, stats["count"])
        assert all(regex.match(k) for k in stats["examples"]), name
        expected["patterns"][name]["examples"] = stats["examples"]


@pytest.mark.parametrize("batch", [1, 4, 1000])
def test_mixed_keyspace_exact_stats(private: redis.Redis, batch: int) -> None:
    assert_mixed_scan(private, batch)


def assert_mixed_scan(client: Any, batch: int) -> KeyspaceReport:
    """Load the mixed keyspace through `client`, scan it and check every figure of the report
    (also run on a Redis Cluster: tests/redis/test_redis_cluster.py)."""
    _load_mixed(client)
    seen: list[int] = []
    report = scan_keyspace(client, PATTERNS, batch=batch, progress=seen.append)
    actual, expected = _comparable(report), _expected_mixed()
    _with_examples(actual, expected)
    assert actual == expected
    assert seen == sorted(seen) and seen[-1] == len(KEYS)
    if batch == 1:
        assert len(seen) > 5  # many batches: sizes and types crossed pipeline boundaries

    # The fixes carry the exact expiry the server holds, -1 for none.
    for stats in report.patterns.values():
        for fix in stats.fixes:
            assert fix.pexpiretime == client.pexpiretime(key_bytes(fix.key))
    above = next(f for f in report.patterns["app:session:{id}"].fixes if f.key.endswith(":3"))
    assert above.pexpiretime > 0
    return report


def test_pttl_fallback_gives_the_same_report(
    private: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Servers before 7.0 have no PEXPIRETIME: PTTL plus the server's TIME gives the same."""
    _load_mixed(private)
    monkeypatch.setattr(redis_keys, "uses_pttl", lambda client: True)
    report = scan_keyspace(private, PATTERNS, batch=5)
    actual, expected = _comparable(report), _expected_mixed()
    _with_examples(actual, expected)
    assert actual == expected
    for stats in report.patterns.values():
        for fix in stats.fixes:
            exact = private.pexpiretime(key_bytes(fix.key))
            assert fix.pexpiretime == -1 if exact == -1 else abs(fix.pexpiretime - exact) < 50


def test_now_ms_decides_what_is_above_policy(private: redis.Redis) -> None:
    _make(private, "app:rl:1", "zset", ex=60)
    patterns = [PATTERNS[4]]
    expiry = private.pexpiretime("app:rl:1")
    fine = scan_keyspace(private, patterns, now_ms=expiry - 61000)
    assert fine.patterns["app:rl:{ip}"].ttl_above_policy == 0
    late = scan_keyspace(private, patterns, now_ms=expiry - 61001)
    assert late.patterns["app:rl:{ip}"].ttl_above_policy == 1
    assert late.patterns["app:rl:{ip}"].fixes == [KeyFix("app:rl:1", expiry, "zset")]


def test_match_limits_the_scan_to_a_prefix(
    redis_url: str, redis_prefix: str, redis_client: redis.Redis
) -> None:
    """On the shared server: only keys under MATCH are seen, whatever other tests hold."""
    p = redis_prefix
    for i in range(30):
        redis_client.set(f"{p}s:{i}", "v", ex=100)
    redis_client.set(f"{p}s:nottl", "v")
    redis_client.hset(f"{p}s:wrong", "f", "v")
    redis_client.set(f"{p}other", "v")
    client = connect_redis(redis_url, command="test")
    try:
        pattern = KeyPattern(f"{p}s:{{id}}", "string", ttl=100)
        report = scan_keyspace(client, [pattern], batch=7, match=f"{p}*")
    finally:
        client.close()
    stats = report.patterns[pattern.pattern]
    assert report.scanned == 33
    assert (stats.count, stats.type_mismatches, stats.without_ttl) == (32, 1, 2)
    assert {f.key for f in stats.fixes} == {f"{p}s:nottl"}  # s:wrong: the wrong type
    assert report.unmatched == {p.rstrip(":"): 1}
    assert report.types == {"string": 32, "hash": 1}


def test_keys_vanishing_between_scan_and_type_are_skipped(
    private: redis.Redis, private_redis: dev.RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(200):
        private.set(f"v:{i}", "x")
    other = redis.Redis.from_url(private_redis.url())
    deleted: list[bytes] = []
    original = redis_scan.KeyStream._key_commands
    batches: list[int] = []

    def delete_then_type(self: redis_scan.KeyStream, keys: list[bytes]) -> bytes:
        # Every third batch loses half its keys after SCAN returned them, before TYPE runs.
        batches.append(len(keys))
        if len(deleted) < 40 and keys and len(batches) % 3 == 0:
            gone = keys[::2]
            other.delete(*gone)
            deleted.extend(gone)
        return original(self, keys)

    monkeypatch.setattr(redis_scan.KeyStream, "_key_commands", delete_then_type)
    report = scan_keyspace(private, [KeyPattern("v:{id}", "string")], batch=10)
    other.close()
    assert deleted
    assert report.scanned == 200 - len(deleted) == report.patterns["v:{id}"].count
    assert report.types == {"string": 200 - len(deleted)}
    assert not report.unmatched


def test_a_type_refused_by_the_acl_is_one_sentence(
    private: redis.Redis, private_redis: dev.RedisServer
) -> None:
    private.set("a:1", "x")
    rules = ["on", ">pw", "~*", "+ping", "+info", "+scan", "+time", "+pexpiretime"]
    private.execute_command("ACL", "SETUSER", "notype", *rules)
    url = private_redis.url().replace("redis://", "redis://notype:pw@")
    blind = redis.Redis.from_url(url)
    try:
        with pytest.raises(ReconcilerError) as refused:
            scan_keyspace(blind, [KeyPattern("a:{id}", "string")])
    finally:
        blind.close()
        private.execute_command("ACL", "DELUSER", "notype")
    assert str(refused.value) == (
        "Redis refused TYPE on key \"a:1\": this user has no permissions to run the 'type' "
        "command (a plan needs SCAN, TYPE and PEXPIRETIME on every key)."
    )


# ----------------------------------------------------------------------- bytes-exact keys

RAW_KEYS = [
    b"bin:\xff\xfe:1",  # not UTF-8
    b"bin:\x00\r\n \"'\\:1",  # NUL, CRLF, space, quotes, backslash
    "uni:café:ü".encode(),
    "uni:日本:1".encode(),
    b"uni:\xed\xa0\x80:1",  # a UTF-8-encoded surrogate: invalid UTF-8
    b"\xc3",  # truncated UTF-8, no ':'
]


def test_binary_and_unicode_keys_round_trip(
    private: redis.Redis, private_redis: dev.RedisServer, tmp_path: Path
) -> None:
    for raw in RAW_KEYS:
        private.set(raw, "v")  # no TTL: every matched key becomes a fix
    patterns = [
        KeyPattern("bin:{x}:1", "string", ttl=10),
        KeyPattern("uni:café:{x}", "string", ttl=10),  # non-ASCII literal text matches
        KeyPattern("uni:{x}:1", "string", ttl=10),
    ]
    report = scan_keyspace(private, patterns)
    fixes = {f.key: f for s in report.patterns.values() for f in s.fixes}
    assert {key_bytes(k) for k in fixes} == set(RAW_KEYS[:5])
    assert report.patterns["uni:café:{x}"].count == 1
    assert report.unmatched == {key_text(b"\xc3"): 1}
    assert [key_bytes(k) for k in report.unmatched_examples[key_text(b"\xc3")]] == [b"\xc3"]

    for key in fixes:
        assert key_text(key_bytes(key)) == key
        assert json.loads(json.dumps(key)) == key  # plan.json: default ensure_ascii keeps them
        assert "\n" not in cli_quote(key)

    # A plan's .redis file in redis-cli syntax reaches exactly the scanned keys.
    script = tmp_path / "up.redis"
    script.write_text("".join(f"EXPIRE {cli_quote(k)} 777\n" for k in fixes), encoding="utf-8")
    with script.open("rb") as stdin:
        out = subprocess.run(
            ["redis-cli", "-p", str(private_redis.port)],
            stdin=stdin,
            capture_output=True,
            check=True,
            timeout=30,
        )
    assert out.stdout.split() == [b"1"] * len(fixes)
    for raw in RAW_KEYS[:5]:
        assert 0 < private.ttl(raw) <= 777


# ------------------------------------------------------------------------------ --bigkeys

_BIGKEYS_LINE = re.compile(r"^(\d+) (hash|list|string|stream|set|zset)s with ", re.M)


def test_type_counts_equal_redis_cli_bigkeys(
    private: redis.Redis, private_redis: dev.RedisServer
) -> None:
    pipe = private.pipeline(transaction=False)
    counts = {"string": 700, "hash": 300, "list": 250, "set": 150, "zset": 120, "stream": 30}
    for kind, n in counts.items():
        for i in range(n):
            key = f"{kind}:{i}" if i % 4 else f"x{i}{kind}"
            if kind == "string":
                pipe.set(key, "v" * (i % 17))
            elif kind == "hash":
                pipe.hset(key, "f", i)
            elif kind == "list":
                pipe.rpush(key, i)
            elif kind == "set":
                pipe.sadd(key, i)
            elif kind == "zset":
                pipe.zadd(key, {"m": i})
            else:
                pipe.xadd(key, {"n": i})
            if i % 3 == 0:
                pipe.expire(key, 1000)
    pipe.execute()
    out = subprocess.run(
        ["redis-cli", "-p", str(private_redis.port), "--bigkeys"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    bigkeys = {kind: int(n) for n, kind in _BIGKEYS_LINE.findall(out)}
    assert set(bigkeys) == set(counts)
    report = scan_keyspace(private, [KeyPattern("string:{i}", "string")], batch=100)
    assert report.types == bigkeys == counts
    assert f"Sampled {report.scanned} keys" in out


# ------------------------------------------------------------------------- bounded memory


def _load_with_pipe(port: int, start: int, stop: int) -> None:
    """Bulk-load keys through `redis-cli --pipe` from generated RESP."""

    def cmd(*args: bytes) -> bytes:
        return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)

    parts = []
    for i in range(start, stop):
        n = b"%d" % i
        if i % 4 == 0:
            parts.append(cmd(b"SET", b"other%d:" % (i // 4 % 10) + n, b"v"))  # ten prefixes
        elif i % 4 == 1:
            parts.append(cmd(b"HSET", b"m:h:" + n, b"f", b"v"))
        else:
            parts.append(cmd(b"SET", b"m:s:" + n, b"v", b"EX", b"3600"))
    subprocess.run(
        ["redis-cli", "-p", str(port), "--pipe"],
        input=b"".join(parts),
        capture_output=True,
        check=True,
        timeout=60,
    )


def _scan_peak(client: redis.Redis, patterns: list[KeyPattern]) -> tuple[int, KeyspaceReport]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        report = scan_keyspace(client, patterns)
        return tracemalloc.get_traced_memory()[1] - base, report
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_keys(
    private: redis.Redis, private_redis: dev.RedisServer
) -> None:
    patterns = [KeyPattern("m:s:{id}", "string", ttl=3600), KeyPattern("m:h:{id}", "hash")]
    for i in range(50):  # the same violations in both rounds: fixes do not grow
        private.set(f"m:s:bad{i}", "v")
    _load_with_pipe(private_redis.port, 0, 50_000)
    scan_keyspace(private, patterns)  # warm up (regex compilation, imports)
    small_peak, small = _scan_peak(private, patterns)
    _load_with_pipe(private_redis.port, 50_000, 200_000)
    big_peak, big = _scan_peak(private, patterns)

    assert small.scanned == 50_050 and big.scanned == 200_050
    assert len(big.patterns["m:s:{id}"].fixes) == len(small.patterns["m:s:{id}"].fixes) == 50
    assert len(big.unmatched) == 10
    # four times the keys: memory that grew with them would be about four times the peak; a
    # SCAN batch is only a hint and varies in size, which moves the peak by a batch's keys
    assert big_peak <= small_peak * 1.5, (small_peak, big_peak)


# ---------------------------------------------------------------------------- connecting


def test_connect_names_the_client(private_redis: dev.RedisServer) -> None:
    client = connect_redis(private_redis.url(), command="drift")
    try:
        names = [c["name"] for c in client.client_list()]
        assert b"reconciler/drift" in names or "reconciler/drift" in names
    finally:
        client.close()


def test_connect_failures_never_show_the_password(private_redis: dev.RedisServer) -> None:
    port = _free_port()
    with pytest.raises(ConnectionFailed) as refused:
        connect_redis(f"redis://app:s3cr3t-pw@127.0.0.1:{port}/0", command="drift")
    assert f"redis://app:***@127.0.0.1:{port}/0" in str(refused.value)

    admin = redis.Redis.from_url(private_redis.url())
    admin.acl_setuser("app", enabled=True, passwords=["+right-pw"], commands=["+@all"])
    admin.close()
    with pytest.raises(ConnectionFailed) as denied:
        connect_redis(f"redis://app:s3cr3t-pw@127.0.0.1:{private_redis.port}/0", command="drift")
    text = f"{denied.value} {denied.value.detail}"
    assert "s3cr3t-pw" not in text and "right-pw" not in text
    assert "***" in text

    with pytest.raises(InputError) as bad:
        connect_redis("http://app:s3cr3t-pw@host/0", command="drift")
    assert "s3cr3t-pw" not in f"{bad.value} {bad.value.detail}"


# ------------------------------------------------------------------------------------ config


def test_read_config_returns_the_servers_strings(private: redis.Redis) -> None:
    private.config_set("maxmemory-policy", "allkeys-lru")
    private.config_set("notify-keyspace-events", "Ex")
    config = read_config(
        private,
        ["maxmemory-policy", "notify-keyspace-events", "hash-max-ziplist-entries", "no-such"],
    )
    assert config == {
        "maxmemory-policy": ConfigParam("maxmemory-policy", "allkeys-lru"),
        "notify-keyspace-events": ConfigParam("notify-keyspace-events", "xE"),
        "hash-max-ziplist-entries": ConfigParam("hash-max-ziplist-entries", "512"),
    }
    assert read_config(private, []) == {}


# --------------------------------------------------------------------------------------- ACL


def _sha(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def test_read_acl_users_rules_and_hashes(private: redis.Redis) -> None:
    private.execute_command(
        "ACL", "SETUSER", "alice", "on", ">alice-pw-1", ">alice-pw-2",
        "~app:*", "%R~ro:*", "&chan:*", "-@all", "+@read", "+set", "-get",
    )  # fmt: skip
    private.execute_command("ACL", "SETUSER", "bob", "reset", "nopass", "+get", "~x")
    private.execute_command("ACL", "SETUSER", "carol", "on", "nopass", "allkeys", "(~s:* +get)")
    private.execute_command("ACL", "SETUSER", "reconciler-probe-abc-0", "reset")
    users = read_acl(private)
    assert set(users) == {"default", "alice", "bob", "carol"}
    alice = users["alice"]
    assert (alice.enabled, alice.nopass) == (True, False)
    assert alice.password_hashes == (_sha("alice-pw-1"), _sha("alice-pw-2"))
    # Redis 7.0 lists single-command rules in its command table's hash order (seeded per
    # process), the categories before them in a fixed order.
    assert alice.rules[:6] == ("~app:*", "%R~ro:*", "resetchannels", "&chan:*", "-@all", "+@read")
    assert sorted(alice.rules[6:]) == ["+set", "-get"]
    assert users["bob"] == AclUser(
        name="bob",
        enabled=False,
        rules=("sanitize-payload", "~x", "resetchannels", "-@all", "+get"),
        nopass=True,
    )
    assert users["carol"].rules == (
        "~*",
        "resetchannels",
        "-@all",
        "(~s:* resetchannels -@all +get)",
    )
    assert users["default"] == AclUser(
        name="default", enabled=True, rules=("~*", "&*", "+@all"), nopass=True
    )
    assert "alice-pw" not in repr(users)


def test_canonical_acl_spells_rules_as_the_live_user_reads(private: redis.Redis) -> None:
    desired = [
        AclUser(name="app_rw", rules=("+@read", "~app:*", "+@write", "-flushall", "-@all"),
                password_env="APP_RW_PASSWORD"),
        AclUser(name="app_ro", rules=("-@all", "+get", "~app:*", "&events:*", "+hget",
                                      "+config|get"), enabled=False),
        AclUser(name="ops", rules=("on", "nopass", "allcommands", "allkeys")),
    ]  # fmt: skip
    canonical = canonical_acl(private, desired)
    assert list(canonical) == ["app_rw", "app_ro", "ops"]
    # "-@all" last undoes the command rules before it, as the server applies them in order.
    assert canonical["app_rw"].rules == ("sanitize-payload", "~app:*", "resetchannels", "-@all")
    app_ro = canonical["app_ro"]
    assert app_ro.enabled is False and app_ro.name == "app_ro"
    assert app_ro.rules[:5] == ("sanitize-payload", "~app:*", "resetchannels", "&events:*", "-@all")
    assert sorted(app_ro.rules[5:]) == ["+config|get", "+get", "+hget"]  # in the server's order
    assert canonical["ops"].rules == ("sanitize-payload", "~*", "resetchannels", "+@all")
    assert canonical["app_rw"].password_env == "APP_RW_PASSWORD"

    # Users created the way apply does (reset, then rules) read back with the same rules.
    for user in desired:
        rules = [r for r in user.rules if r not in ("on", "nopass")]
        private.execute_command("ACL", "SETUSER", user.name, "reset", ">pw-x", *rules)
    live = read_acl(private)
    for name, user in canonical.items():
        assert live[name].rules == user.rules
    # Nothing left behind.
    assert not [u for u in private.acl_users() if u.startswith("reconciler-probe-")]


def test_canonical_acl_rejects_bad_rules_and_passwords(private: redis.Redis) -> None:
    with pytest.raises(InputError) as bad:
        canonical_acl(private, [AclUser(name="ok"), AclUser(name="broken", rules=("+nosuch",))])
    assert "broken" in str(bad.value)
    with pytest.raises(InputError) as secret:
        canonical_acl(private, [AclUser(name="leaky", rules=("~a:*", ">plain-secret"))])
    assert "leaky" in str(secret.value) and "plain-secret" not in str(secret.value)
    assert not [u for u in private.acl_users() if u.startswith("reconciler-probe-")]
    assert canonical_acl(private, []) == {}


def test_scan_failure_is_a_sentence_and_the_client_stays_usable(
    private: redis.Redis, private_redis: dev.RedisServer
) -> None:
    private.set("a:1", "v")
    private.execute_command("ACL", "SETUSER", "scanner", "on", ">pw", "~*", "+@all", "-type")
    client = connect_redis(f"redis://scanner:pw@127.0.0.1:{private_redis.port}/0", command="t")
    try:
        with pytest.raises(ReconcilerError) as failed:
            scan_keyspace(client, [KeyPattern("a:{id}", "string")])
        assert "TYPE" in str(failed.value)
        assert client.get("a:1") == b"v"  # the broken connection was not reused
    finally:
        client.close()
