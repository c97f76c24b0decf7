"""A key whose type is not its pattern's is a finding only: no step of any kind touches it.

Keys of the wrong type under patterns that ask for a TTL must appear in neither plan file, keep
their value and exact expiry through apply and rollback (deletion allowed or not), and still
be reported. Only a pattern that says `prune: true` deletes them
(tests/redis/test_redis_plan_apply). On a single Redis and on a Redis Cluster (the same scan and
diff).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import redis

from tests.conftest import redis_from_url
from tests.helpers import run_cli, write_yaml

ON_REDIS_CLUSTER = True

SPEC = """\
namespace: app
patterns:
  - pattern: "app:session:{id}"
    type: hash
    class: session
  - pattern: "app:cache:item:{id}"
    type: string
    class: cache
  - pattern: "app:job:{id}"
    type: zset
    class: cache
"""
WRONG_PER_PATTERN = 40


def _seed(r: redis.Redis) -> tuple[list[str], list[str]]:
    """(keys of the right type that break the TTL policy, keys of the wrong type)."""
    now_ms = int(time.time() * 1000)
    right: list[str] = []
    wrong: list[str] = []
    for i in range(3):
        r.hset(f"app:session:ok{i}", mapping={"u": str(i)})  # right type, no TTL: fixed
        r.set(f"app:cache:item:ok{i}", f"v{i}")
        r.zadd(f"app:job:ok{i}", {"m": i})
        right += [f"app:session:ok{i}", f"app:cache:item:ok{i}", f"app:job:ok{i}"]
    for i in range(WRONG_PER_PATTERN):
        # Every shape a TTL step would look at: no TTL, a TTL far above the policy, one within.
        kind = i % 3
        for key, write in (
            (f"app:session:bad{i}", lambda k, i=i: r.set(k, f"str{i}")),
            (f"app:cache:item:bad{i}", lambda k, i=i: r.hset(k, mapping={"f": str(i)})),
            (f"app:job:bad{i}", lambda k, i=i: r.rpush(k, "a", str(i))),
        ):
            write(key)
            if kind == 1:
                r.pexpireat(key, now_ms + 900_000_000)
            elif kind == 2:
                r.expire(key, 60)
            wrong.append(key)
    return right, wrong


def _state(r: redis.Redis, keys: list[str]) -> dict[str, tuple[bytes | None, int]]:
    return {k: (r.dump(k), r.pexpiretime(k)) for k in keys}


def test_wrong_type_keys_are_findings_that_no_step_touches(whole_redis, tmp_path: Path):
    url = whole_redis.url()
    r = redis_from_url(url)
    right, wrong = _seed(r)
    before = _state(r, wrong)
    schemas = tmp_path / "schemas"
    write_yaml(schemas, "keys/app.yaml", SPEC)
    plans = tmp_path / "plans"

    planned = run_cli(
        "plan",
        "--redis",
        url,
        "--schemas",
        str(schemas),
        "--out",
        str(plans),
        "--json",
        cwd=tmp_path,
    )
    assert planned.code == 0, planned.text
    data = json.loads(planned.out)
    files = [plans / data["files"][f]["name"] for f in ("redis_up", "redis_down")]
    for path in files:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        named = [k for k in wrong if f'"{k}"' in text or f" {k} " in f" {text} "]
        assert not named, f"{path.name} names keys of the wrong type: {named[:5]}"
    up = files[0].read_text()
    for key in right:  # the right-type keys without a TTL are still fixed
        assert f'"{key}"' in up, up

    mismatches = {f["address"]: f for f in data["findings"] if f["kind"] == "type_mismatch"}
    for pattern in ("app:session:{id}", "app:cache:item:{id}", "app:job:{id}"):
        assert mismatches[f"redis.keys.{pattern}"]["count"] == WRONG_PER_PATTERN

    applied = run_cli(
        "apply",
        "--redis",
        url,
        "--plan",
        str(plans / f"{data['version']}_{data['slug']}.plan.json"),
        "--auto-approve",
        "--allow-destructive",
        cwd=tmp_path,
    )
    assert applied.code == 0, applied.text
    assert _state(r, wrong) == before  # values and exact expiries (-1 stays -1)
    assert all(r.ttl(k) > 0 for k in right)

    # Planned and applied in one step, with deletion allowed: still nothing of the wrong type.
    again = run_cli(
        "apply",
        "--redis",
        url,
        "--schemas",
        str(schemas),
        "--out",
        str(tmp_path / "p2"),
        "--auto-approve",
        "--allow-destructive",
        cwd=tmp_path,
    )
    assert again.code == 0, again.text
    assert _state(r, wrong) == before
    shown = run_cli(
        "plan",
        "--redis",
        url,
        "--schemas",
        str(schemas),
        "--out",
        str(tmp_path / "p3"),
        cwd=tmp_path,
    )
    assert shown.code == 0, shown.text
    for sentence in ("keys are not hash", "keys are not string", "keys are not zset"):
        assert f"{WRONG_PER_PATTERN} {sentence}" in shown.out, shown.out

    back = run_cli(
        "rollback",
        "--redis",
        url,
        "--last",
        "--auto-approve",
        "--out",
        str(tmp_path / "p2"),
        cwd=tmp_path,
    )
    assert back.code == 0, back.text
    assert _state(r, wrong) == before
    r.close()
