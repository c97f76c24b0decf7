"""The server goes away: PostgreSQL stopped (fast and immediate shutdown) and restarted, and
Redis restarted, in the middle of an apply and of a drift scan. A clear error and exit 1,
nothing half-applied, no stale lock, and a new apply converges."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import psycopg
import pytest
import redis

from reconciler import dev
from reconciler.locks.redis import redis_lock_holder
from reconciler.state.postgres import PgState
from tests.reliability.conftest import ROOT, trials
from tests.reliability.project import key_sides, seed_keys, write_project

FAMILY = "The server goes away"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def cluster(server_dir: Path) -> Iterator[dev.PgServer]:
    """A PostgreSQL cluster of this module's own: the tests stop and start it."""
    server = dev.start_postgres(server_dir / "pg-restarts")
    try:
        yield server
    finally:
        if (current := dev.PgServer.from_datadir(server.datadir)) is not None:
            current.stop()


def _database(server: dev.PgServer, name: str) -> str:
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url(name)


def _wait_for(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


def _until(proc: subprocess.Popen[str], check: Callable[[], bool], what: str) -> None:
    """Until `check()` holds or `proc` has ended."""
    _wait_for(lambda: check() or proc.poll() is not None, what)


def _running_statements(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
            "'reconciler/apply%' AND state = 'active' AND query NOT ILIKE '%pg_advisory%'"
        ).fetchone()
    return row[0] > 0


def _restart_pg(server: dev.PgServer, mode: str) -> dev.PgServer:
    pid = server.pid()
    assert pid is not None
    os.kill(pid, signal.SIGINT if mode == "fast" else signal.SIGQUIT)
    _wait_for(lambda: not server.is_running(), "PostgreSQL to stop")
    return dev.start_postgres(server.datadir, port=server.port)


def _apply(pg: str | None, rd: str | None, schemas: Path, cwd: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "reconciler", "apply", "--schemas", str(schemas)]
    argv += ["--auto-approve", "--lock-timeout", "30"]
    argv += ["--pg", pg] if pg else []
    argv += ["--redis", rd] if rd else []
    return subprocess.Popen(
        argv, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _one_sentence_error(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, (proc.returncode, out, err)
    assert "Traceback" not in err and err.strip().startswith("Error:"), err
    return " ".join(err.split())


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_stops_in_the_middle_of_an_apply(
    mode, cluster, pg_dump_schema, tmp_path, outcomes
):
    schemas = write_project(tmp_path, tables=300, redis_keys=False)
    server = cluster
    for trial in range(trials(quick=1, full=5)):
        url = _database(server, f"restart_{mode}_{trial}")
        before = pg_dump_schema(url)
        proc = _apply(url, None, schemas, tmp_path)
        _until(proc, partial(_running_statements, url), "the apply to run its statements")
        assert proc.poll() is None, "the apply finished before the server could be stopped"
        server = _restart_pg(server, mode)
        err = _one_sentence_error(proc)
        assert "connection" in err.lower() and "PostgreSQL" in err, err
        assert pg_dump_schema(url) == before, "half-applied"
        with psycopg.connect(url, autocommit=True) as conn:
            state = PgState(conn)
            assert not state.exists() or state.history() == []
        again = _apply(url, None, schemas, tmp_path)
        _, err2 = again.communicate(timeout=180)
        assert again.returncode == 0, err2
        assert pg_dump_schema(url) != before
        outcomes.add(
            f"PostgreSQL {mode} shutdown in the middle of an apply",
            "exit 1, one sentence, nothing applied, lock free, re-apply converged",
            family=FAMILY,
        )


def _fixing_ttls(client: redis.Redis) -> bool:
    """The apply has started its guarded TTL scripts (each key's fix is one EVALSHA)."""
    return client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0) > 0


def _scanning(client: redis.Redis) -> bool:
    """A drift run is scanning: its connection's last command is one of the scan's (each
    batch pipelines SCAN with TYPE and PEXPIRETIME of its keys)."""
    return any(
        c.get("name") == "reconciler/drift" and c.get("cmd") in ("scan", "type", "pexpiretime")
        for c in client.client_list()
    )


def _restart_redis(server: dev.RedisServer) -> dev.RedisServer:
    client = redis.Redis.from_url(server.url())
    with contextlib.suppress(redis.ConnectionError):  # the reply may be the connection closing
        client.shutdown(save=True)  # keeps the keys across the restart (dump.rdb in its dir)
    _wait_for(lambda: not server.is_running(), "Redis to stop")
    return dev.start_redis(server.dir, port=server.port)


@pytest.fixture
def restartable_redis(server_dir: Path) -> Iterator[list[dev.RedisServer]]:
    holder = [dev.start_redis(server_dir / f"redis-restarts-{uuid.uuid4().hex[:8]}")]
    try:
        yield holder
    finally:
        holder[0].stop()


def test_redis_restarts_in_the_middle_of_an_apply(
    restartable_redis, make_pg_database, pg_dump_schema, tmp_path, outcomes
):
    schemas = write_project(tmp_path, tables=150)
    for _ in range(trials(quick=1, full=5)):
        server = restartable_redis[0]
        client = redis.Redis.from_url(server.url())
        client.flushall()
        client.config_resetstat()
        seed_keys(client, 20_000)
        pg = make_pg_database()
        before = pg_dump_schema(pg)
        proc = _apply(pg, server.url(), schemas, tmp_path)
        _until(proc, partial(_fixing_ttls, client), "the apply to fix TTLs")
        assert proc.poll() is None, "the apply finished before Redis could be restarted"
        server = restartable_redis[0] = _restart_redis(server)
        err = _one_sentence_error(proc)
        assert "Redis" in err, err
        assert "reverted" in err, err
        client = redis.Redis.from_url(server.url())
        assert key_sides(client) == {"before": 20_000, "after": 0, "neither": 0}, "half-applied"
        assert pg_dump_schema(pg) == before, "PostgreSQL half-applied"
        assert redis_lock_holder(client) is None, "a stale Redis lock"
        outcomes.add(
            "Redis restarted in the middle of an apply",
            "exit 1, the Redis steps sent reverted once it was back, PostgreSQL untouched, "
            "lock free",
            family=FAMILY,
        )


def test_redis_restarts_in_the_middle_of_a_drift_scan(restartable_redis, tmp_path, outcomes):
    schemas = write_project(tmp_path, tables=0)
    for _ in range(trials(quick=1, full=5)):
        server = restartable_redis[0]
        client = redis.Redis.from_url(server.url())
        client.flushall()
        seed_keys(client, 300_000)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reconciler",
                "drift",
                "--redis",
                server.url(),
                "--schemas",
                str(schemas),
            ],
            cwd=tmp_path,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _until(proc, partial(_scanning, client), "the drift scan")
        assert proc.poll() is None, "the drift scan finished before the restart"
        restartable_redis[0] = _restart_redis(server)
        err = _one_sentence_error(proc)
        assert "Redis" in err, err
        outcomes.add(
            "Redis restarted in the middle of a drift scan", "exit 1, one sentence", family=FAMILY
        )
