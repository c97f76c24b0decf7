"""export --redis on keyspaces shaped like real libraries' (tests/redis_shapes.py): the inferred
patterns, their types and TTLs, and a round trip through validate and plan.

For each keyspace: export → every file under keys/ is YAML → the patterns, normalized
(placeholder names dropped), are exactly the expected ones with their types → no file has an
empty namespace → validate exits 0 → a pattern whose keys all expire has a TTL covering them, any
other none → plan --detailed-exitcode finds nothing to change → with the TTL stripped from a few
keys of every pattern whose keys all expire, the plan gives back exactly those keys their TTL.
The export is expected to type placeholders (`{n:int}`, `{d:date}`, ...), keep single-segment
and empty-segment patterns, and merge literal siblings of the same structure (redis_shapes).
"""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from reconciler import dev
from reconciler.desired import load
from reconciler.ops.redis.proto import from_bytes, split
from tests import redis_shapes
from tests.conftest import redis_from_url
from tests.helpers import run_cli
from tests.redis_shapes import ExpectedPattern, normalize

# Only the test taking `whole_redis` (the two-pattern keyspace, the smallest) runs on a Redis
# Cluster too; the others take a `private_redis` of their own.
ON_REDIS_CLUSTER = True

# Every pattern the libraries' layouts need (42 for redis_shapes.everything), and no more: the
# export must not fragment a keyspace into candidates, written or commented out.
MAX_PATTERNS = 42


# --------------------------------------------------------------------------------- harness


def _populate(client: Any, generate: Any, seed: int, scale: int) -> list[ExpectedPattern]:
    expected = redis_shapes.write(client, generate, seed, scale)
    written = sum(p.count for p in expected)
    assert len({k for p in expected for k in p.keys}) == written, "a key written twice"
    assert _key_count(client) == written, "the generator did not write every key"
    names = [p.pattern for p in expected]
    assert len(names) == len(set(names)), "an expected pattern listed twice"
    return expected


def _key_count(client: Any) -> int:
    """DBSIZE of the server, or summed over a cluster's primaries (not one random node)."""
    if isinstance(client, redis.RedisCluster):
        return client.dbsize(target_nodes=redis.RedisCluster.PRIMARIES)
    return client.dbsize()


def _export(url: str, out: Path) -> str:
    r = run_cli("export", "--redis", url, "--out", str(out))
    assert r.code == 0, r.text
    return r.out


def _files(out: Path) -> dict[str, dict[str, Any]]:
    """Every YAML file under keys/, parsed; each must be valid YAML."""
    keys = out / "keys"
    assert (keys / "server.yaml").is_file(), sorted(p.name for p in keys.iterdir())
    docs = {}
    for path in sorted(keys.rglob("*.yaml")):
        try:
            docs[path.relative_to(keys).as_posix()] = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            pytest.fail(f"{path.name} is not valid YAML: {exc}")
    return docs


def _exported(docs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Normalized pattern → its entry, with the file it came from."""
    found: dict[str, dict[str, Any]] = {}
    for name, doc in docs.items():
        assert isinstance(doc, dict), f"{name}: not a mapping"
        for entry in doc.get("patterns") or []:
            key = normalize(entry["pattern"])
            assert key not in found, f"{key} exported twice ({found[key]['file']}, {name})"
            found[key] = {**entry, "file": name}
    return found


def _check_files(docs: dict[str, dict[str, Any]]) -> None:
    """No empty namespace; a namespace's patterns start with it; a pattern without a literal
    first segment (empty, or a placeholder) is in _root.yaml, which has no namespace."""
    problems = []
    for name, doc in docs.items():
        namespace = doc.get("namespace")
        if "namespace" in doc and not (isinstance(namespace, str) and namespace):
            problems.append(f"{name}: namespace {namespace!r}")
        for entry in doc.get("patterns") or []:
            pattern = entry["pattern"]
            first = pattern.split(":", 1)[0]
            if namespace and not pattern.startswith(namespace):
                problems.append(f"{name}: {pattern} outside namespace {namespace!r}")
            if (first == "" or first.startswith("{")) and (name != "_root.yaml" or namespace):
                problems.append(f"{name}: {pattern} (no literal first segment) not in _root.yaml")
    assert not problems, "\n".join(problems)


def _candidates(out: Path) -> int:
    """Patterns written, loadable or commented out as not loadable."""
    text = "".join(p.read_text() for p in (out / "keys").rglob("*.yaml"))
    return len(re.findall(r"^\s*(?:#\s*)?- pattern:", text, re.M))


def _compare(expected: list[ExpectedPattern], found: dict[str, dict[str, Any]]) -> None:
    want = {(p.pattern, p.type) for p in expected}
    got = {(k, e.get("type")) for k, e in found.items()}
    missing, extra = sorted(want - got), sorted(got - want)
    assert not missing and not extra, (
        f"{len(missing)} expected pattern(s) missing: {missing}\n"
        f"{len(extra)} unexpected pattern(s) exported: {extra}"
    )


def _live_max_ttl(client: Any, keys: list[str]) -> int:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.pttl(key)
    return max(math.ceil(ms / 1000) for ms in pipe.execute())


def _check_ttls(
    client: Any, out: Path, expected: list[ExpectedPattern], found: dict[str, dict[str, Any]]
) -> None:
    """A pattern whose keys all expire gets a TTL (its own, or its class's) covering the live
    ones; any other pattern gets none."""
    desired = load(out)
    assert desired.redis is not None
    resolved = {normalize(p): kp.ttl for p, kp in desired.redis.patterns.items()}
    problems = []
    for p in expected:
        ttl = resolved.get(p.pattern)
        if p.all_expire:
            live = _live_max_ttl(client, p.keys)
            if ttl is None or ttl < live:
                problems.append(f"{p.pattern}: ttl {ttl}, keys live up to {live} s")
        elif ttl is not None:
            problems.append(f"{p.pattern}: ttl {ttl}, but not every key expires")
    assert not problems, "\n".join(problems) + f"\n{json.dumps(found, indent=1)}"


def _plan(url: str, schemas: Path, out: Path, *extra: str) -> Any:
    return run_cli(
        "plan", "--redis", url, "--schemas", str(schemas), "--out", str(out), *extra, cwd=out.parent
    )


def _expired_by_plan(url: str, schemas: Path, out: Path) -> set[str]:
    """The keys the plan's Redis up file gives a TTL to."""
    r = _plan(url, schemas, out, "--json")
    assert r.code == 0, r.text
    files = json.loads(r.out)["files"]
    if "redis_up" not in files:
        return set()
    up = (out / files["redis_up"]["name"]).read_text()
    return {
        from_bytes(split(line)[1])
        for line in up.splitlines()
        if line.split(" ", 1)[0].upper() == "EXPIRE"
    }


def _strip_ttls(client: Any, expected: list[ExpectedPattern], rng: random.Random) -> set[str]:
    """PERSIST up to 3 keys of each pattern whose keys all expire; the keys it stripped (a key
    with a short TTL may be gone already)."""
    stripped = set()
    for p in expected:
        if p.all_expire:
            for key in rng.sample(p.keys, min(3, p.count)):
                if client.persist(key):
                    stripped.add(key)
    assert stripped, "no TTL stripped"
    return stripped


def _exported_clean(
    client: Any, url: str, expected: list[ExpectedPattern], schemas: Path
) -> dict[str, dict[str, Any]]:
    """Export into `schemas`; the files validate, hold exactly the expected patterns with
    fitting TTLs, and a plan of the same keyspace has no changes. The patterns found."""
    _export(url, schemas)
    docs = _files(schemas)
    found = _exported(docs)
    _compare(expected, found)
    _check_files(docs)
    r = run_cli("validate", "--schemas", str(schemas))
    assert r.code == 0, r.text
    assert _candidates(schemas) <= MAX_PATTERNS, _candidates(schemas)
    _check_ttls(client, schemas, expected, found)
    r = _plan(url, schemas, schemas.parent / "plans", "--detailed-exitcode")
    assert r.code == 0, f"the export's own keyspace needs changes:\n{r.text}"
    return found


def round_trip(
    client: Any, url: str, expected: list[ExpectedPattern], tmp_path: Path, seed: int
) -> dict[str, dict[str, Any]]:
    """Export, validate, compare, plan (no changes), strip TTLs, plan (exactly those fixed)."""
    schemas = tmp_path / "schemas"
    found = _exported_clean(client, url, expected, schemas)
    stripped = _strip_ttls(client, expected, random.Random(seed))
    fixed = _expired_by_plan(url, schemas, tmp_path / "plans-stripped")
    assert fixed == stripped, (
        f"not fixed: {sorted(stripped - fixed)}\nfixed, not stripped: {sorted(fixed - stripped)}"
    )
    return found


@pytest.fixture
def client(private_redis: dev.RedisServer) -> Any:
    with redis.Redis.from_url(private_redis.url(), decode_responses=True) as c:
        yield c


# ----------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("library", sorted(redis_shapes.LIBRARIES))
def test_one_library_alone(
    library: str, client: Any, private_redis: dev.RedisServer, tmp_path: Path
) -> None:
    expected = _populate(client, redis_shapes.LIBRARIES[library], seed=7, scale=1)
    round_trip(client, private_redis.url(), expected, tmp_path, seed=7)


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("scale", [1, 3])
def test_all_libraries_together(
    scale: int, seed: int, client: Any, private_redis: dev.RedisServer, tmp_path: Path
) -> None:
    expected = _populate(client, redis_shapes.everything, seed=seed, scale=scale)
    assert len(expected) <= MAX_PATTERNS
    round_trip(client, private_redis.url(), expected, tmp_path, seed=seed)


def test_export_states_the_keys_its_patterns_cover(
    client: Any, private_redis: dev.RedisServer, tmp_path: Path
) -> None:
    expected = _populate(client, redis_shapes.everything, seed=5, scale=1)
    total = _key_count(client)  # just before the export: a key with a short TTL may be gone later
    assert total == sum(p.count for p in expected)
    out = _export(private_redis.url(), tmp_path / "schemas")
    assert str(total) in out or f"{total:,}" in out, out
    assert "cover" in out.lower(), out


def test_two_patterns_and_exactly_the_stripped_keys_fixed(whole_redis: Any, tmp_path: Path) -> None:
    url = whole_redis.url()
    with redis_from_url(url, decode_responses=True) as client:
        expected = _populate(client, redis_shapes.app_two_patterns, seed=3, scale=1)
        schemas = tmp_path / "schemas"
        found = _exported_clean(client, url, expected, schemas)
        assert sorted(found) == ["app:cache:user:{:int}:profile", "app:session:{:int}"]

        cache = next(p for p in expected if p.pattern == "app:cache:user:{:int}:profile")
        stripped = set(random.Random(3).sample(cache.keys, 40))
        for key in stripped:
            assert client.persist(key) == 1
        fixed = _expired_by_plan(url, schemas, tmp_path / "plans-stripped")
        assert fixed == stripped, (sorted(stripped - fixed), sorted(fixed - stripped))


def test_a_stray_key_keeps_its_own_pattern_within_the_general_one(
    private_redis: Any, tmp_path: Path
) -> None:
    """`sess:admin` (no TTL) among 200 `sess:<token>` sessions: it stays a pattern of its own,
    which a plan tries first, so the sessions keep their TTL policy and the stray key is left
    alone."""
    url = private_redis.url()
    with redis_from_url(url, decode_responses=True) as client:
        rng = random.Random(5)
        tokens = ["".join(rng.choice("abcdefghijkLMNOP0123456789") for _ in range(24))]
        tokens += ["".join(rng.choice("abcdefghijkLMNOP0123456789") for _ in range(24))
                   for _ in range(199)]  # fmt: skip
        for token in tokens:
            client.set(f"sess:{token}", "s", ex=86400)
        client.set("sess:admin", "keep me")
        schemas = tmp_path / "schemas"
        _export(url, schemas)
        found = _exported(_files(schemas))
        assert sorted(found) == ["sess:admin", "sess:{}"], found
        assert run_cli("validate", "--schemas", str(schemas)).code == 0
        r = _plan(url, schemas, tmp_path / "plans", "--detailed-exitcode")
        assert r.code == 0, r.text
        stripped = {f"sess:{t}" for t in tokens[:5]}
        for key in stripped:
            assert client.persist(key) == 1
        assert _expired_by_plan(url, schemas, tmp_path / "plans-stripped") == stripped
