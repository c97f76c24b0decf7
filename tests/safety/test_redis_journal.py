"""An interrupted Redis apply leaves nothing sent and unrecorded: kill -9 or Ctrl-C an apply of
many batches at several points; after the next command, Redis is either fully applied and the
version recorded, or exactly as it was (every key's expiry, the config value), and the next
apply works."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from reconciler.locks.redis import LOCK_KEY, redis_lock_holder
from reconciler.locks.redis_journal import JOURNAL_KEY, RedisJournal, expiry_item
from reconciler.state.file import FileState
from tests.helpers import run_cli, write_yaml

ROOT = Path(__file__).resolve().parents[2]
KEYS = 20_000
SPEC = """\
namespace: app
patterns:
  - pattern: "app:cache:user:{id}"
    type: string
    class: cache
"""
SERVER = """\
config:
  maxmemory-policy: allkeys-lru
"""


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "schemas"
    write_yaml(root, "keys/app.yaml", SPEC)
    write_yaml(root, "keys/server.yaml", SERVER)
    return root


def _seed(client: redis.Redis) -> list[bytes]:
    """Half the keys without a TTL, half with one far above the policy: all get EXPIRE."""
    now_ms = int(time.time() * 1000)
    keys = [f"app:cache:user:{i}".encode() for i in range(KEYS)]
    pipe = client.pipeline(transaction=False)
    for i, key in enumerate(keys):
        pipe.set(key, b"v")
        if i % 2:
            pipe.pexpireat(key, now_ms + 500_000_000 + i)
    pipe.execute()
    return keys


def _expiries(client: redis.Redis, keys: list[bytes]) -> list[int]:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.execute_command("PEXPIRETIME", key)
    return [int(v) for v in pipe.execute()]


def _policy(client: redis.Redis) -> str:
    return client.config_get("maxmemory-policy")["maxmemory-policy"]


def _applied_versions(tmp_path: Path) -> list[str]:
    state = FileState(tmp_path / "state")
    if not state.exists():
        return []
    return [r.version for r in state.history() if r.direction == "up" and r.status == "applied"]


def _argv(url: str, schemas: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "reconciler",
        "apply",
        "--redis",
        url,
        "--schemas",
        str(schemas),
        "--auto-approve",
        "--lock-timeout",
        "10",
    ]


def _wait_for(condition, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            return  # finished before the point: the run must then be applied and recorded
        time.sleep(0.001)
    proc.kill()
    pytest.fail("the apply never reached the kill point")


def _changed(client: redis.Redis, sample: list[bytes], before: dict[bytes, int]) -> int:
    now = _expiries(client, sample)
    return sum(1 for key, ms in zip(sample, now, strict=True) if ms != before[key])


def _assert_one_side(client, keys, before, old_policy, tmp_path) -> str:
    """Fully applied and recorded, or exactly as before; which one."""
    now = _expiries(client, keys)
    assert client.exists(JOURNAL_KEY) == 0, "the journal was left behind"
    if _applied_versions(tmp_path):
        assert all(ms > 0 for ms in now)
        assert sum(1 for a, b in zip(now, before, strict=True) if a != b) == KEYS
        assert _policy(client) == "allkeys-lru"
        return "applied"
    changed = sum(1 for a, b in zip(now, before, strict=True) if a != b)
    assert changed == 0, f"{changed:,} keys keep an expiry no recorded apply set"
    assert _policy(client) == old_policy
    return "untouched"


POINTS = ("locked", "first", "mid", "late")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "sigint"])
@pytest.mark.parametrize("point", POINTS)
def test_interrupted_apply_is_applied_or_put_back(private_redis, tmp_path, sig, point):
    url = private_redis.url()
    client = redis.Redis.from_url(url)
    old_policy = _policy(client)
    keys = _seed(client)
    before_list = _expiries(client, keys)
    before = dict(zip(keys, before_list, strict=True))
    sample = random.Random(3).sample(keys, 400)
    schemas = _project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        _argv(url, schemas),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    conditions = {
        "locked": lambda: client.exists(LOCK_KEY),
        "first": lambda: _changed(client, sample[:100], before) >= 1,
        "mid": lambda: _changed(client, sample, before) >= 100,
        "late": lambda: _changed(client, sample, before) >= 380,
    }
    _wait_for(conditions[point], proc)
    if proc.poll() is None:
        os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)

    if sig == signal.SIGINT:
        # The process put back what it had sent before it exited: no other command needed.
        _assert_one_side(client, keys, before_list, old_policy, tmp_path)
        assert redis_lock_holder(client) is None, err
    else:
        stale = redis_lock_holder(client)
        if stale is not None:
            if client.exists(JOURNAL_KEY):
                # Under the dead run's lock, a plan only says what was left, touching nothing.
                r = run_cli("plan", "--redis", url, "--schemas", str(schemas), cwd=tmp_path)
                assert "is running or was interrupted" in r.err, r.text
                assert client.exists(JOURNAL_KEY)
            r = run_cli("lock", "force-unlock", stale["token"], "--redis", url, cwd=tmp_path)
            assert r.code == 0, r.text
        leftover = client.exists(JOURNAL_KEY) and not _applied_versions(tmp_path)
        r = run_cli("plan", "--redis", url, "--schemas", str(schemas), cwd=tmp_path)
        assert r.code == 0, r.text
        if leftover:
            assert "An interrupted apply of version" in r.err, r.text
        _assert_one_side(client, keys, before_list, old_policy, tmp_path)

    # The next apply works and leaves nothing to do.
    r = run_cli("apply", "--redis", url, "--schemas", str(schemas), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    assert _applied_versions(tmp_path)
    assert all(ms > 0 for ms in _expiries(client, keys))
    assert _policy(client) == "allkeys-lru"
    r = run_cli("plan", "--redis", url, "--schemas", str(schemas), cwd=tmp_path)
    assert r.code == 0 and "No changes" in r.out, r.text


def _leftover(client: redis.Redis, version: str, *expiries: tuple[bytes, int]) -> None:
    """A journal as a run killed after its batch (and maybe after its record) leaves it."""
    journal = RedisJournal(client)
    journal.begin(version=version, direction="up")
    journal.record([expiry_item(key, expect, -1) for key, expect in expiries])


def test_a_recorded_apply_keeps_its_changes_an_unrecorded_one_is_put_back(private_redis, tmp_path):
    url = private_redis.url()
    client = redis.Redis.from_url(url)
    client.set(b"app:cache:user:1", b"v")
    client.set(b"app:cache:user:2", b"v")
    schemas = _project(tmp_path)
    r = run_cli("apply", "--redis", url, "--schemas", str(schemas), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    (version,) = _applied_versions(tmp_path)

    # Killed between its record and dropping its journal: the apply stands.
    set_at = client.execute_command("PEXPIRETIME", b"app:cache:user:1")
    _leftover(client, version, (b"app:cache:user:1", set_at))
    r = run_cli("plan", "--redis", url, "--schemas", str(schemas), cwd=tmp_path)
    assert r.code == 0, r.text
    assert client.execute_command("PEXPIRETIME", b"app:cache:user:1") == set_at
    assert not client.exists(JOURNAL_KEY)
    assert _applied_versions(tmp_path) == [version]

    # Not recorded: put back, but only where the key still carries what that run set.
    client.pexpireat(b"app:cache:user:2", set_at + 5)  # changed by someone since: left alone
    _leftover(
        client, "20990101000000", (b"app:cache:user:1", set_at), (b"app:cache:user:2", set_at)
    )
    r = run_cli("plan", "--redis", url, "--schemas", str(schemas), cwd=tmp_path)
    assert "had changed 1 key in Redis; they were put back" in r.err, r.text
    assert client.execute_command("PEXPIRETIME", b"app:cache:user:1") == -1
    assert client.execute_command("PEXPIRETIME", b"app:cache:user:2") == set_at + 5
    assert not client.exists(JOURNAL_KEY)


def _pg_history(pg_url: str) -> list[str]:
    import psycopg

    from reconciler.state.postgres import PgState

    with psycopg.connect(pg_url, autocommit=True) as conn:
        state = PgState(conn)
        if not state.exists():
            return []
        return [r.version for r in state.history() if r.status == "applied"]


@pytest.mark.parametrize("point", ["mid", "late"])
def test_with_postgres_the_version_recorded_there_decides(
    private_redis, make_pg_database, pg_dump_schema, tmp_path, point
):
    """Both engines: the Redis batches run before the Postgres COMMIT. Killed in between,
    Postgres rolls back, and the next command puts the Redis part back too."""
    pg, url = make_pg_database(), private_redis.url()
    client = redis.Redis.from_url(url)
    old_policy = _policy(client)
    keys = _seed(client)
    before_list = _expiries(client, keys)
    before = dict(zip(keys, before_list, strict=True))
    sample = random.Random(5).sample(keys, 400)
    schemas = _project(tmp_path)
    write_yaml(
        schemas,
        "tables/runs.yaml",
        "table: runs\ncolumns:\n  - {name: id, type: bigint, nullable: false}\nprimary_key: [id]\n",
    )
    empty = pg_dump_schema(pg)
    argv = [*_argv(url, schemas), "--pg", pg]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
    wanted = 100 if point == "mid" else 390
    _wait_for(lambda: _changed(client, sample, before) >= wanted, proc)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    stale = redis_lock_holder(client)
    if stale is not None:
        r = run_cli("lock", "force-unlock", stale["token"], "--redis", url, cwd=tmp_path)
        assert r.code == 0, r.text
    time.sleep(0.5)  # the server notices the dead client and rolls its transaction back
    r = run_cli("plan", "--pg", pg, "--redis", url, "--schemas", str(schemas), cwd=tmp_path)
    assert r.code == 0, r.text
    assert not client.exists(JOURNAL_KEY)
    now = _expiries(client, keys)
    if _pg_history(pg):
        assert pg_dump_schema(pg) != empty
        assert all(a != b for a, b in zip(now, before_list, strict=True))
        assert _policy(client) == "allkeys-lru"
    else:
        assert pg_dump_schema(pg) == empty
        assert now == before_list, "Redis keeps changes of an apply Postgres rolled back"
        assert _policy(client) == old_policy
    r = run_cli(
        "apply",
        "--pg",
        pg,
        "--redis",
        url,
        "--schemas",
        str(schemas),
        "--auto-approve",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    assert _pg_history(pg)

    # Killed after the COMMIT, before its journal was dropped: the recorded apply stands.
    (version,) = _pg_history(pg)
    set_at = client.execute_command("PEXPIRETIME", keys[0])
    _leftover(client, version, (keys[0], set_at))
    r = run_cli("plan", "--pg", pg, "--redis", url, "--schemas", str(schemas), cwd=tmp_path)
    assert r.code == 0 and "No changes" in r.out, r.text
    assert client.execute_command("PEXPIRETIME", keys[0]) == set_at
    assert not client.exists(JOURNAL_KEY)


def test_an_interrupted_rollback_is_put_back_too(private_redis, tmp_path):
    url = private_redis.url()
    client = redis.Redis.from_url(url)
    keys = _seed(client)
    before = dict(zip(keys, _expiries(client, keys), strict=True))
    sample = random.Random(7).sample(keys, 400)
    schemas = _project(tmp_path)
    r = run_cli("apply", "--redis", url, "--schemas", str(schemas), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    applied = _expiries(client, keys)
    argv = [*_argv(url, schemas)[:3], "rollback", "--redis", url, "--last", "--auto-approve"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
    _wait_for(lambda: _changed(client, sample, before) <= 300, proc)  # a quarter restored
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    stale = redis_lock_holder(client)
    if stale is not None:
        assert (
            run_cli("lock", "force-unlock", stale["token"], "--redis", url, cwd=tmp_path).code == 0
        )
    r = run_cli("plan", "--redis", url, "--schemas", str(schemas), cwd=tmp_path)
    assert r.code == 0, r.text
    assert not client.exists(JOURNAL_KEY)
    if _applied_versions(tmp_path):  # the rollback is not recorded: the apply stands, exactly
        assert _expiries(client, keys) == applied
        assert "No changes" in r.out, r.text
    else:
        assert _expiries(client, keys) == list(before.values())


def test_on_a_redis_cluster_the_journal_puts_back_every_node(redis_cluster, tmp_path):
    """The journal key lives on one node; the steps it undoes went to every primary."""
    from tests.conftest import redis_from_url

    redis_cluster.flushall()
    url = redis_cluster.url
    client = redis_from_url(url)
    nodes = [client.get_redis_connection(n) for n in client.get_nodes()]
    old_policy = _policy(nodes[0])
    keys = _seed(client)
    before_list = _expiries(client, keys)
    before = dict(zip(keys, before_list, strict=True))
    sample = random.Random(9).sample(keys, 400)
    schemas = _project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(_argv(url, schemas), cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
    _wait_for(lambda: _changed(client, sample, before) >= 100, proc)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    try:
        stale = redis_lock_holder(client)
        if stale is not None:
            r = run_cli("lock", "force-unlock", stale["token"], "--redis", url, cwd=tmp_path)
            assert r.code == 0, r.text
        r = run_cli("plan", "--redis", url, "--schemas", str(schemas), cwd=tmp_path)
        assert r.code == 0, r.text
        assert not client.exists(JOURNAL_KEY)
        now = _expiries(client, keys)
        if _applied_versions(tmp_path):
            assert all(a != b for a, b in zip(now, before_list, strict=True))
            assert {_policy(n) for n in nodes} == {"allkeys-lru"}
        else:
            assert now == before_list, "keys keep an expiry no recorded apply set"
            assert {_policy(n) for n in nodes} == {old_policy}
    finally:
        for node in nodes:
            node.config_set("maxmemory-policy", old_policy)
        redis_cluster.flushall()
