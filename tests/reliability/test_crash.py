"""Crash anywhere: `kill -9` of an apply at random points of a plan with many changes in both
engines. Afterwards PostgreSQL is untouched or fully applied, every Redis key is on one side
of the plan, the locks are free or breakable, the state says what happened, and a new apply
converges."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import redis

from reconciler.locks.redis import redis_lock_holder
from reconciler.state.postgres import PgState
from tests.helpers import run_cli
from tests.reliability.conftest import ROOT, trials
from tests.reliability.project import key_sides, seed_keys, write_project

FAMILY = "Crash anywhere"
SEED_KEYS = 1200


def _apply_argv(pg: str, rd: str, schemas: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "reconciler",
        "apply",
        "--pg",
        pg,
        "--redis",
        rd,
        "--schemas",
        str(schemas),
        "--auto-approve",
        "--lock-timeout",
        "60",
    ]


def _apply(pg: str, rd: str, schemas: Path, cwd: Path, env: dict[str, str]):
    """One apply to its end, as a deploy pipeline runs it."""
    argv = _apply_argv(pg, rd, schemas)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _wait_gone(pg: str) -> None:
    """Until the server has noticed the dead client (its backend gone, its lock with it)."""
    with psycopg.connect(pg, autocommit=True) as conn:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
                "'reconciler/apply%' AND datname = current_database()"
            ).fetchone()
            if row[0] == 0:
                return
            time.sleep(0.02)
    pytest.fail("the killed apply's backend never went away")


def test_kill_9_at_random_points(
    make_pg_database, private_redis, pg_dump_schema, tmp_path, outcomes
):
    rng = random.Random(int(os.environ.get("RELIABILITY_SEED", "7")))
    schemas = write_project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    client = redis.Redis.from_url(private_redis.url())

    # One undisturbed apply: how long it takes, and the schema it leaves.
    reference = make_pg_database()
    before = pg_dump_schema(reference)
    seed_keys(client, SEED_KEYS)
    started = time.monotonic()
    done = _apply(reference, private_redis.url(), schemas, tmp_path, env)
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    applied = pg_dump_schema(reference)
    assert applied != before

    for trial in range(trials(quick=4, full=50)):
        pg = make_pg_database()
        client.flushdb()
        seed_keys(client, SEED_KEYS)
        delay = rng.uniform(0.0, duration * 1.1)
        proc = subprocess.Popen(
            _apply_argv(pg, private_redis.url(), schemas),
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        finished_first = proc.poll() is not None
        if not finished_first:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        _wait_gone(pg)

        schema = pg_dump_schema(pg)
        assert schema in (before, applied), f"trial {trial}: PostgreSQL half-applied"
        pg_side = "applied" if schema == applied else "untouched"
        sides = key_sides(client)
        assert sides["neither"] == 0, f"trial {trial}: Redis keys with a TTL from neither side"
        redis_side = (
            "applied"
            if sides["before"] == 0
            else "untouched"
            if sides["after"] == 0
            else "partly (key by key)"
        )

        with psycopg.connect(pg, autocommit=True) as conn:
            state = PgState(conn)
            history = state.history() if state.exists() else []
            attempts = state.attempts() if state.exists() else []
        # The state says exactly what happened to PostgreSQL.
        assert (len(history) == 1) == (pg_side == "applied"), f"trial {trial}: state disagrees"
        if pg_side == "untouched" and attempts:
            assert [a.status for a in attempts] == ["interrupted"]

        # The Postgres lock went with the backend; the Redis lock, if the kill left it, is
        # reported and broken with the id `lock status` shows.
        r = run_cli("lock", "status", "--pg", pg, cwd=tmp_path)
        assert r.code == 0 and "free" in r.out, r.text
        stale = redis_lock_holder(client)
        if stale is not None:
            r = run_cli("lock", "status", "--redis", private_redis.url(), cwd=tmp_path)
            assert r.code == 2 and stale["token"] in r.out, r.text
            r = run_cli(
                "lock", "force-unlock", stale["token"], "--redis", private_redis.url(), cwd=tmp_path
            )
            assert r.code == 0, r.text
            assert redis_lock_holder(client) is None

        # A new apply converges: both engines fully applied, nothing left to plan.
        again = _apply(pg, private_redis.url(), schemas, tmp_path, env)
        assert again.returncode == 0, again.stderr
        assert pg_dump_schema(pg) == applied
        assert key_sides(client) == {"before": 0, "after": SEED_KEYS, "neither": 0}
        replan = run_cli(
            "plan",
            "--pg",
            pg,
            "--redis",
            private_redis.url(),
            "--schemas",
            str(schemas),
            "--out",
            str(tmp_path / "replan"),
            cwd=tmp_path,
        )
        assert replan.code == 0 and "No changes" in replan.out, replan.text

        when = "finished before the kill" if finished_first else "killed"
        outcomes.add(
            "kill -9 at a random point of an apply (PostgreSQL + Redis)",
            f"{when}: PostgreSQL {pg_side}, Redis {redis_side}"
            + (", Redis lock broken by id" if stale is not None else ""),
            family=FAMILY,
        )
    client.close()
