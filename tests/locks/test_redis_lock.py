"""The Redis apply lock against a real server: contention, waiting, leases, dead holders,
ownership of release, force-unlock."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from reconciler import errors
from reconciler.locks.redis import LOCK_KEY, RedisLock, redis_force_unlock, redis_lock_holder
from reconciler.state.base import Actor
from tests.conftest import redis_from_url
from tests.helpers import run_cli

REPO = Path(__file__).resolve().parents[2]
ME = Actor.current()
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


ON_REDIS_CLUSTER = True  # every test here runs on a single Redis and on a Redis Cluster


@pytest.fixture
def key(redis_prefix: str) -> str:
    """The lock key of this test (inside its prefix, so it is cleaned up and never shared)."""
    return f"{redis_prefix}{LOCK_KEY}"


@pytest.fixture
def raw_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client that does not decode responses: the lock must work with both kinds."""
    with redis_from_url(redis_url) as client:
        yield client


def test_the_default_key_is_documented() -> None:
    assert LOCK_KEY == "reconciler:lock"


def test_holder_is_none_when_free(redis_client: redis.Redis, key: str) -> None:
    assert redis_lock_holder(redis_client, key=key) is None


def test_the_key_names_the_holder_and_has_a_lease(redis_client: redis.Redis, key: str) -> None:
    with RedisLock(redis_client, key=key, command="apply", lease_ms=5000) as lock:
        holder = redis_lock_holder(redis_client, key=key)
        assert holder is not None
        assert (holder["host"], holder["pid"], holder["user"], holder["command"]) == (
            ME.host,
            ME.pid,
            ME.user,
            "apply",
        )
        assert holder["token"] == lock.token and len(lock.token) == 32
        assert 0 < holder["ttl_ms"] <= 5000
        stored = json.loads(redis_client.get(key))
        assert set(stored) == {"token", "host", "pid", "user", "command", "since"}
    assert redis_lock_holder(redis_client, key=key) is None  # released on leaving the block


def test_second_run_fails_naming_the_holder_after_its_timeout(
    redis_client: redis.Redis, raw_client: redis.Redis, key: str
) -> None:
    timeout = 0.5
    with RedisLock(redis_client, key=key, command="apply"):
        started = time.monotonic()
        with pytest.raises(errors.LockHeld) as caught:
            RedisLock(raw_client, key=key, timeout=timeout).acquire()
        elapsed = time.monotonic() - started
    assert timeout <= elapsed < timeout + 0.5
    summary = re.escape(
        f"Another apply holds the Redis lock: host {ME.host} pid {ME.pid} user {ME.user} since "
    )
    assert re.fullmatch(summary + STAMP + r"\.", caught.value.summary)
    assert re.fullmatch(
        re.escape(
            "Wait for it to finish (or pass --lock-timeout SECONDS to wait longer); if that run "
            "is gone, its lease frees the lock within "
        )
        + r"\d+"
        + re.escape(
            " s, or run `reconciler lock force-unlock ID --redis URL` with the id "
            "`reconciler lock status --redis URL` shows."
        ),
        caught.value.detail or "",
    )


def test_zero_timeout_fails_at_once(redis_client: redis.Redis, key: str) -> None:
    with RedisLock(redis_client, key=key):
        started = time.monotonic()
        with pytest.raises(errors.LockHeld, match="holds the Redis lock"):
            RedisLock(redis_client, key=key).acquire()
        assert time.monotonic() - started < 0.3


def test_the_holders_command_is_named(redis_client: redis.Redis, key: str) -> None:
    with (
        RedisLock(redis_client, key=key, command="rollback"),
        pytest.raises(errors.LockHeld, match=r"^Another rollback holds the Redis lock: host "),
    ):
        RedisLock(redis_client, key=key).acquire()


def test_waiting_succeeds_when_the_holder_releases(
    redis_client: redis.Redis, raw_client: redis.Redis, key: str
) -> None:
    holding = RedisLock(redis_client, key=key)
    holding.acquire()
    timer = threading.Timer(0.4, holding.release)
    timer.start()
    try:
        started = time.monotonic()
        with RedisLock(raw_client, key=key, timeout=10) as second:
            elapsed = time.monotonic() - started
            assert redis_lock_holder(redis_client, key=key)["token"] == second.token
    finally:
        timer.join()
    assert 0.4 <= elapsed < 3.0  # released at 0.4 s; the backoff is capped at 2 s


def test_release_is_idempotent_and_reacquire_works(redis_client: redis.Redis, key: str) -> None:
    lock = RedisLock(redis_client, key=key)
    lock.acquire()
    with pytest.raises(RuntimeError, match="already held"):
        lock.acquire()
    first = lock.token
    lock.release()
    lock.release()
    assert redis_lock_holder(redis_client, key=key) is None
    lock.acquire()
    assert redis_lock_holder(redis_client, key=key)["token"] == lock.token != first
    lock.release()


def test_only_the_owner_releases(redis_client: redis.Redis, key: str) -> None:
    first = RedisLock(redis_client, key=key)
    first.acquire()
    assert redis_force_unlock(redis_client, key=key) is True  # first's lock is broken...
    second = RedisLock(redis_client, key=key)
    second.acquire()  # ...and taken by someone else
    try:
        first.release()  # must not delete second's lock
        holder = redis_lock_holder(redis_client, key=key)
        assert holder is not None and holder["token"] == second.token
        second.check()
    finally:
        second.release()
    assert redis_lock_holder(redis_client, key=key) is None


def test_a_lock_never_acquired_releases_nothing(redis_client: redis.Redis, key: str) -> None:
    with RedisLock(redis_client, key=key) as holding:
        bystander = RedisLock(redis_client, key=key)
        with pytest.raises(errors.LockHeld):
            bystander.acquire()
        bystander.release()
        assert redis_lock_holder(redis_client, key=key)["token"] == holding.token


def test_renewal_keeps_the_lock_past_its_first_lease(redis_client: redis.Redis, key: str) -> None:
    with RedisLock(redis_client, key=key, lease_ms=400) as lock:
        time.sleep(1.3)  # more than three leases
        holder = redis_lock_holder(redis_client, key=key)
        assert holder is not None and holder["token"] == lock.token
        assert 0 < holder["ttl_ms"] <= 400
        lock.check()
        assert lock.lost is False
        with pytest.raises(errors.LockHeld):
            RedisLock(redis_client, key=key).acquire()


def test_without_renewal_the_lease_runs_out(redis_client: redis.Redis, key: str) -> None:
    redis_client.set(key, json.dumps({"token": "x" * 32, "host": "elsewhere"}), px=300)
    with pytest.raises(errors.LockHeld, match="host elsewhere"):
        RedisLock(redis_client, key=key).acquire()
    started = time.monotonic()
    with RedisLock(redis_client, key=key, timeout=5):
        assert time.monotonic() - started < 0.3 + 1.0


def test_renewal_notices_a_force_unlock(redis_client: redis.Redis, key: str) -> None:
    lock = RedisLock(redis_client, key=key, lease_ms=300)
    lock.acquire()
    try:
        assert redis_force_unlock(redis_client, key=key) is True
        deadline = time.monotonic() + 2
        while not lock.lost:
            assert time.monotonic() < deadline, "the renewal thread never noticed the loss"
            time.sleep(0.02)
        assert "the key is gone" in (lock.lost_reason or "")
        assert redis_lock_holder(redis_client, key=key) is None  # renewal did not recreate it
    finally:
        lock.release()


def test_check_raises_at_once_when_the_lock_changed_hands(
    redis_client: redis.Redis, key: str
) -> None:
    lock = RedisLock(redis_client, key=key)  # a long lease: renewal would notice much later
    lock.acquire()
    try:
        lock.check()
        redis_force_unlock(redis_client, key=key)
        with RedisLock(redis_client, key=key, command="apply"):
            with pytest.raises(errors.LockHeld) as caught:
                lock.check()
            assert re.fullmatch(
                re.escape(f"Lost the Redis lock {key!r} during the run: it is now held by host ")
                + r".+"
                + STAMP
                + r"\.",
                caught.value.summary,
            )
            assert "stopped before its next batch" in (caught.value.detail or "")
            assert lock.lost is True
            with pytest.raises(errors.LockHeld):  # and keeps saying so
                lock.check()
    finally:
        lock.release()


def test_check_needs_a_held_lock(redis_client: redis.Redis, key: str) -> None:
    with pytest.raises(RuntimeError, match="not held"):
        RedisLock(redis_client, key=key).check()


def test_a_lease_shorter_than_the_minimum_is_refused(redis_client: redis.Redis) -> None:
    with pytest.raises(ValueError, match="lease_ms"):
        RedisLock(redis_client, lease_ms=1)


def test_a_value_not_written_by_reconciler_is_described(
    redis_client: redis.Redis, key: str
) -> None:
    redis_client.set(key, "held by hand")
    holder = redis_lock_holder(redis_client, key=key)
    assert holder == {"raw": "held by hand", "ttl_ms": -1}
    with pytest.raises(errors.LockHeld) as caught:
        RedisLock(redis_client, key=key).acquire()
    assert caught.value.summary == (
        "Another apply holds the Redis lock: a value Reconciler did not write ('held by hand')."
    )
    assert "lease" not in (caught.value.detail or "")  # no expiry: only force-unlock helps
    assert redis_force_unlock(redis_client, key=key) is True


# --- dead holders and force-unlock -------------------------------------------------------------

_HOLDER_SCRIPT = """
import sys, time
from reconciler.locks.redis import RedisLock
from reconciler.introspect.redis.server import connect_redis
client = connect_redis(sys.argv[1], command="apply")
RedisLock(client, key=sys.argv[2], lease_ms=int(sys.argv[3]), command="apply").acquire()
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def spawn_holder(redis_url: str, key: str) -> Iterator[Callable[[int], subprocess.Popen[str]]]:
    """Start a separate OS process that takes the lock and sleeps; killed afterwards."""
    children: list[subprocess.Popen[str]] = []

    def spawn(lease_ms: int) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        child = subprocess.Popen(
            [sys.executable, "-c", _HOLDER_SCRIPT, redis_url, key, str(lease_ms)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        children.append(child)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        return child

    yield spawn
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait()


def test_a_killed_holder_frees_the_lock_after_its_lease(
    redis_client: redis.Redis, key: str, spawn_holder: Callable[[int], subprocess.Popen[str]]
) -> None:
    lease_ms = 600
    child = spawn_holder(lease_ms)
    time.sleep(lease_ms / 1000 * 1.5)  # alive and renewing: still held past its first lease
    holder = redis_lock_holder(redis_client, key=key)
    assert holder is not None
    assert (holder["pid"], holder["host"], holder["user"]) == (child.pid, ME.host, ME.user)
    with pytest.raises(errors.LockHeld, match=rf"pid {child.pid} user "):
        RedisLock(redis_client, key=key, timeout=0.2).acquire()

    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed = time.monotonic()
    with RedisLock(redis_client, key=key, timeout=5, poll=0.02) as lock:
        waited = time.monotonic() - killed
        assert redis_lock_holder(redis_client, key=key)["token"] == lock.token
    assert waited <= lease_ms / 1000 + 1.0  # the lease, not a timeout of its own


def test_force_unlock_breaks_a_running_holders_lock(
    redis_client: redis.Redis, key: str, spawn_holder: Callable[[int], subprocess.Popen[str]]
) -> None:
    child = spawn_holder(30_000)
    holder = redis_lock_holder(redis_client, key=key)
    assert holder is not None and holder["pid"] == child.pid

    assert redis_force_unlock(redis_client, key=key, token="not-the-token") is False
    assert redis_lock_holder(redis_client, key=key)["token"] == holder["token"]

    assert redis_force_unlock(redis_client, key=key, token=holder["token"]) is True
    assert redis_lock_holder(redis_client, key=key) is None
    assert redis_force_unlock(redis_client, key=key) is False  # nothing to break any more
    with RedisLock(redis_client, key=key, lease_ms=300):
        time.sleep(0.3)  # the old holder's renewals must not touch the new lock
        assert redis_lock_holder(redis_client, key=key)["pid"] == os.getpid()
    assert child.poll() is None  # the process lives on; its next check() would stop it


def test_lock_status_and_force_unlock_speak_redis_through_the_cli(private_redis, tmp_path) -> None:
    """The way out a held Redis lock's error names: `lock status --redis` shows the holder and
    its id, `lock force-unlock ID --redis` breaks exactly that holder's lock."""
    url = private_redis.url()
    client = redis.Redis.from_url(url)
    lock = RedisLock(client, command="apply")
    lock.acquire()
    try:
        token = redis_lock_holder(client)["token"]
        r = run_cli("lock", "status", "--redis", url, cwd=tmp_path)
        assert r.code == 2 and f"id {token}" in r.out and "lease" in r.out, r.text
        r = run_cli("lock", "force-unlock", "not-the-holder", "--redis", url, cwd=tmp_path)
        assert r.code == 1 and "does not hold" in r.err, r.text
        assert redis_lock_holder(client) is not None
        r = run_cli("lock", "force-unlock", token, "--redis", url, cwd=tmp_path)
        assert r.code == 0, r.text
        r = run_cli("lock", "status", "--redis", url, cwd=tmp_path)
        assert r.code == 0 and "Redis: free." in r.out, r.text
    finally:
        lock.release()
        client.close()
