"""`reconciler backup` / `restore` (make db_backup / db_restore): backup, wipe, restore brings
back the schema, the rows and the Redis keys with their values and expiries."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from reconciler.usecases.backup import MAGIC, read_keys
from tests.helpers import run_cli


@pytest.fixture
def keys(private_redis) -> redis.Redis:
    client = redis.Redis.from_url(private_redis.url())
    client.set("cache:page:1", "<html>", px=3_600_000)
    client.hset("sessions:user:7", mapping={"token": "abc", "n": "3"})
    client.expire("sessions:user:7", 7200)
    client.rpush("queues:jobs", "a", "b", "c")  # no expiry
    client.zadd("ratelimit:ip:1", {"t1": 1.0, "t2": 2.0})
    client.pexpire("ratelimit:ip:1", 900_000)
    yield client
    client.close()


def _state(client: redis.Redis) -> dict[bytes, tuple[bytes | None, int]]:
    out = {}
    for key in sorted(client.scan_iter(count=100)):
        out[key] = (client.dump(key), client.pexpiretime(key))
    return out


def test_backup_wipe_restore(pg_url, pg_conn, private_redis, keys, tmp_path: Path, pg_dump_schema):
    pg_conn.execute(
        "CREATE TABLE accounts (id integer PRIMARY KEY, owner text NOT NULL);"
        "INSERT INTO accounts SELECT g, 'u' || g FROM generate_series(1, 500) g;"
        "CREATE INDEX idx_accounts_owner ON accounts (owner)"
    )
    schema = pg_dump_schema(pg_url)
    before = _state(keys)
    redis_url = private_redis.url()

    keys.set("doomed", "x", px=1500)  # will have expired before the restore
    started = time.monotonic()
    r = run_cli("backup", "--pg", pg_url, "--redis", redis_url, "--out", "backups", cwd=tmp_path)
    assert r.code == 0, r.text
    dumps = sorted((tmp_path / "backups").glob("*.dump"))
    assert len(dumps) == 1
    redis_file = dumps[0].with_suffix(".redis")
    assert redis_file.read_bytes().startswith(MAGIC)
    assert len(list(read_keys(redis_file))) == 5

    pg_conn.execute("DROP TABLE accounts")
    keys.flushdb()
    time.sleep(max(0.0, 1.6 - (time.monotonic() - started)))  # "doomed" has expired by now

    r = run_cli(
        "restore",
        str(dumps[0]),
        "--pg",
        pg_url,
        "--redis",
        redis_url,
        "--auto-approve",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text
    assert "4 Redis keys restored" in r.out and "(1 had expired)" in r.out

    assert pg_dump_schema(pg_url) == schema
    assert pg_conn.execute("SELECT count(*), sum(id) FROM accounts").fetchone() == (500, 125250)
    after = _state(keys)
    assert after == before  # same values (DUMP) and the same absolute expiries


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path, pg_url):
    bogus = tmp_path / "x.redis"
    bogus.write_bytes(b"not a backup")
    r = run_cli(
        "restore",
        str(bogus),
        "--pg",
        pg_url,
        "--redis",
        "redis://127.0.0.1:1/0",
        "--auto-approve",
        cwd=tmp_path,
    )
    assert r.code == 1
    missing = run_cli(
        "restore", str(tmp_path / "nothing.dump"), "--pg", pg_url, "--auto-approve", cwd=tmp_path
    )
    assert missing.code == 1 and "No backup at" in missing.err


def test_restore_asks_first_without_a_terminal(tmp_path: Path, pg_url):
    (tmp_path / "b.dump").write_bytes(b"")
    r = run_cli("restore", str(tmp_path / "b.dump"), "--pg", pg_url, cwd=tmp_path)
    assert r.code != 0
    assert "--auto-approve" in r.err
