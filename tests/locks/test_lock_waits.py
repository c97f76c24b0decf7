"""Waiting for a held lock says so, once, naming the holder; a holder whose process is gone from
this host is described as such (PostgreSQL advisory lock and Redis lock key, real servers)."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import redis

from reconciler import errors
from reconciler.connect.appname import application_name
from reconciler.locks.pg import PgLock, lock_holder
from reconciler.locks.redis import LOCK_KEY, RedisLock, describe_redis_holder, redis_lock_holder
from reconciler.state.base import Actor
from tests.helpers import run_cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "schemas"
ME = Actor.current()


@pytest.fixture
def conns(pg_url: str) -> Iterator[tuple[psycopg.Connection, psycopg.Connection]]:
    name = application_name("apply")
    with (
        psycopg.connect(pg_url, autocommit=True, application_name=name) as first,
        psycopg.connect(pg_url, autocommit=True, application_name=name) as second,
    ):
        yield first, second


def _waits(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Waiting for")]


def test_waiting_for_the_pg_lock_is_said_once_naming_the_holder(
    conns: tuple[psycopg.Connection, psycopg.Connection], caplog: pytest.LogCaptureFixture
) -> None:
    first, second = conns
    caplog.set_level(logging.WARNING, logger="reconciler")
    with PgLock(first), pytest.raises(errors.LockHeld):
        PgLock(second, timeout=2.5).acquire()  # several retries: still one line
    waits = _waits(caplog)
    assert len(waits) == 1, waits
    assert waits[0].startswith(
        f"Waiting for the lock held by apply: host {ME.host} pid {ME.pid} user {ME.user} "
        f"(backend pid {first.info.backend_pid}) since "
    )
    assert waits[0].endswith(" UTC (up to 2.5 s)…")


def test_a_free_pg_lock_or_no_wait_says_nothing(
    conns: tuple[psycopg.Connection, psycopg.Connection], caplog: pytest.LogCaptureFixture
) -> None:
    first, second = conns
    caplog.set_level(logging.INFO, logger="reconciler")
    with PgLock(first, timeout=5), pytest.raises(errors.LockHeld):
        PgLock(second).acquire()  # no --lock-timeout: fails at once, nothing to wait for
    with PgLock(second, timeout=5):
        pass
    assert _waits(caplog) == []


def test_apply_with_a_lock_timeout_says_it_waits_on_stderr(
    pg_url: str, tmp_path: Path, conns: tuple[psycopg.Connection, psycopg.Connection]
) -> None:
    first, _ = conns
    with PgLock(first):
        r = run_cli(
            "apply", "--pg", pg_url, "--schemas", str(EXAMPLE), "--auto-approve",
            "--lock-timeout", "1", cwd=tmp_path,
        )  # fmt: skip
    assert r.code == 1, r.text
    assert r.err.count("Waiting for the lock held by apply: host ") == 1, r.err
    assert "(up to 1 s)…" in r.err
    assert r.err.index("Waiting for the lock") < r.err.index("holds the lock")


_DYING_HOLDER = """
import sys, psycopg
from reconciler.connect.appname import application_name
from reconciler.locks.pg import PgLock
conn = psycopg.connect(sys.argv[1], autocommit=True, application_name=application_name("apply"))
PgLock(conn).acquire()
print("locked", flush=True)
conn.execute("SELECT pg_sleep(4)")
"""


def test_a_pg_holder_whose_process_died_mid_statement_is_described_as_gone(
    pg_url: str, conns: tuple[psycopg.Connection, psycopg.Connection]
) -> None:
    # The server notices a vanished client only when it next talks to it: a run killed while
    # its backend runs a long statement leaves the lock held until that statement ends.
    ours, _ = conns
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", _DYING_HOLDER, pg_url], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        time.sleep(0.2)  # the statement is running
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    holder = lock_holder(ours)
    assert holder is not None and holder.pid == child.pid
    assert holder.gone
    text = holder.describe()
    assert f"; pid {child.pid} on this host is no longer running, but its server session" in text
    assert f"`reconciler lock force-unlock {holder.backend_pid}`" in text
    status = run_cli("lock", "status", "--pg", pg_url, cwd=REPO)  # what the user looks at
    assert status.code == 2, status.text
    assert f"pid {child.pid} on this host is no longer running" in " ".join(status.out.split())
    with pytest.raises(errors.LockHeld) as caught:
        PgLock(ours).acquire()
    assert "no longer running" in caught.value.summary
    assert "the server ends that session when its statement finishes" in caught.value.detail
    with PgLock(ours, timeout=10):  # freed when the statement ends; never stolen
        pass


def test_a_live_pg_holder_is_not_called_gone(
    conns: tuple[psycopg.Connection, psycopg.Connection],
) -> None:
    first, second = conns
    with PgLock(first):
        holder = lock_holder(second)
        assert holder is not None and not holder.gone
        assert "no longer running" not in holder.describe()


# --- Redis --------------------------------------------------------------------------------------


@pytest.fixture
def key(redis_prefix: str) -> str:
    return f"{redis_prefix}{LOCK_KEY}"


def test_waiting_for_the_redis_lock_is_said_once(
    redis_client: redis.Redis, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="reconciler")
    with RedisLock(redis_client, key=key, command="apply"), pytest.raises(errors.LockHeld):
        RedisLock(redis_client, key=key, timeout=2.5).acquire()
    waits = _waits(caplog)
    assert len(waits) == 1, waits
    assert waits[0].startswith(
        f"Waiting for the Redis lock held by apply: host {ME.host} pid {ME.pid} user {ME.user} "
        "since "
    )
    assert waits[0].endswith(" UTC (up to 2.5 s)…")
    caplog.clear()
    with RedisLock(redis_client, key=key, timeout=5):
        pass
    assert _waits(caplog) == []


def test_a_redis_lock_left_by_a_dead_process_on_this_host_says_so(
    redis_client: redis.Redis, key: str
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # reaped: its pid names no process now
    value = {
        "token": "0" * 32,
        "host": socket.gethostname(),
        "pid": dead.pid,
        "user": ME.user,
        "command": "apply",
        "since": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    redis_client.set(key, json.dumps(value), px=30_000)  # what a killed run leaves behind
    holder = redis_lock_holder(redis_client, key=key)
    assert holder is not None
    text = describe_redis_holder(holder)
    assert f"; pid {dead.pid} on this host is no longer running: a crashed run, whose lock " in (
        text
    )
    assert "expires within 30 s; `reconciler lock force-unlock ID --redis URL` frees it now" in (
        text
    )
    with pytest.raises(errors.LockHeld, match="no longer running"):
        RedisLock(redis_client, key=key).acquire()
    assert redis_client.exists(key)  # described, never stolen
    # Another host's pid cannot be checked from here: no claim either way.
    redis_client.set(key, json.dumps({**value, "host": "elsewhere.example"}), px=30_000)
    other = describe_redis_holder(redis_lock_holder(redis_client, key=key) or {})
    assert "no longer running" not in other
