"""A plan refused as stale names what moved since it was made: the objects (by address) that
were added, dropped or changed, a handful at most, then how many more. Real servers, real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import redis

from tests.helpers import run_cli, write_yaml

ACCOUNTS = """
table: accounts
primary_key: [id]
columns:
  - {name: id, type: uuid, nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
"""
NOTE = "  - {name: note, type: text, nullable: true}\n"


def _pending(tmp_path: Path, pg_url: str) -> Path:
    """accounts applied, then a saved plan adding a column to it."""
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS)
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS + NOTE)
    r = run_cli("plan", "--pg", pg_url, "--schemas", "schemas", cwd=tmp_path)
    assert r.code == 0, r.text
    return sorted((tmp_path / "plans").glob("*.plan.json"))[-1]


def _apply(tmp_path: Path, pg_url: str, plan: Path):
    r = run_cli("apply", "--pg", pg_url, "--plan", str(plan), "--auto-approve", cwd=tmp_path)
    return r, " ".join(r.err.split())


def test_a_stale_plan_names_the_objects_that_moved(pg_url, pg_conn, tmp_path):
    plan = _pending(tmp_path, pg_url)
    pg_conn.execute("ALTER TABLE public.accounts ADD COLUMN sneaky int")
    pg_conn.execute("CREATE TABLE public.intruder (id int)")

    r, err = _apply(tmp_path, pg_url, plan)

    assert r.code == 1, r.text
    assert "The database changed since this plan was made" in err
    assert "pg.column.public.accounts.sneaky: added" in err
    assert "pg.table.public.intruder: added" in err
    assert "refusing to apply a stale plan" in err
    assert "and " not in err.split("made")[1].split("refusing")[0]  # nothing more to count


def test_many_moves_name_a_handful_and_count_the_rest(pg_url, pg_conn, tmp_path):
    plan = _pending(tmp_path, pg_url)
    for i in range(8):
        pg_conn.execute(f"CREATE TABLE public.intruder_{i} (id int)")

    r, err = _apply(tmp_path, pg_url, plan)

    assert r.code == 1, r.text
    named = [f"pg.table.public.intruder_{i}: added" for i in range(8)]
    assert sum(n in err for n in named) == 5
    assert "pg.column.public.intruder_0.id" not in err  # a new table's columns go unsaid
    assert "; and 3 more); refusing to apply a stale plan" in err


def test_a_dropped_or_changed_object_is_named_so(pg_url, pg_conn, tmp_path):
    plan = _pending(tmp_path, pg_url)
    pg_conn.execute("ALTER TABLE public.accounts ALTER COLUMN created_at DROP DEFAULT")
    pg_conn.execute("ALTER TABLE public.accounts DROP COLUMN updated_at")

    r, err = _apply(tmp_path, pg_url, plan)

    assert r.code == 1, r.text
    assert "pg.column.public.accounts.created_at: changed" in err
    assert "pg.column.public.accounts.updated_at: dropped" in err


def test_a_plan_written_before_objects_were_recorded_keeps_the_plain_sentence(
    pg_url, pg_conn, tmp_path
):
    plan = _pending(tmp_path, pg_url)
    data = json.loads(plan.read_text())
    assert data["live_objects"]  # recorded by this version
    del data["live_objects"]
    plan.write_text(json.dumps(data, indent=2) + "\n")
    pg_conn.execute("CREATE TABLE public.intruder (id int)")

    r, err = _apply(tmp_path, pg_url, plan)

    assert r.code == 1, r.text
    assert "The database changed since this plan was made; refusing to apply a stale plan." in err


def test_a_stale_redis_plan_names_the_config_that_moved(whole_redis, tmp_path):
    url = whole_redis.url()
    client = redis.Redis.from_url(url)
    client.config_set("maxmemory-policy", "noeviction")
    server = "config:\n  maxmemory-policy: allkeys-lru\n"
    write_yaml(tmp_path / "schemas", "keys/server.yaml", server)
    r = run_cli("plan", "--redis", url, "--schemas", "schemas", cwd=tmp_path)
    assert r.code == 0, r.text
    plan = sorted((tmp_path / "plans").glob("*.plan.json"))[-1]
    client.config_set("maxmemory-policy", "volatile-lru")

    r = run_cli("apply", "--redis", url, "--plan", str(plan), "--auto-approve", cwd=tmp_path)

    err = " ".join(r.err.split())
    assert r.code == 1, r.text
    assert "The Redis config or ACL users changed since this plan was made" in err
    assert "redis.config.maxmemory-policy: changed" in err
