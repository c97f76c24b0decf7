"""`reconciler backup` says each step on stderr and is quick on a small database: the RDB
snapshot (a full sync the server starts only after repl-diskless-sync-delay) is opt-in."""

from __future__ import annotations

import re
import time
from pathlib import Path

import redis

from tests.helpers import run_cli


def test_a_small_backup_is_quick_and_says_what_it_does(
    pg_url: str, private_redis, tmp_path: Path
) -> None:
    client = redis.Redis.from_url(private_redis.url())
    client.set("a", "1")
    client.set("b", "2", px=60_000)
    client.close()

    started = time.monotonic()
    r = run_cli(
        "backup", "--pg", pg_url, "--redis", private_redis.url(), "--out", "b", cwd=tmp_path
    )
    took = time.monotonic() - started
    assert r.code == 0, r.text
    assert took < 3.0, f"backup took {took:.1f} s"  # it took 5.8 s, 5 of them in --rdb
    lines = r.err.splitlines()
    assert re.fullmatch(r"Dumping PostgreSQL \(pg_dump -Fc\) into .*\.dump…", lines[0]), r.err
    assert re.fullmatch(r"Reading 2 Redis keys into .*\.redis…", lines[1]), r.err
    files = sorted(p.suffix for p in (tmp_path / "b").iterdir())
    assert files == [".dump", ".redis"]  # no snapshot unless asked


def test_the_rdb_snapshot_when_asked(private_redis, tmp_path: Path) -> None:
    r = run_cli("backup", "--redis", private_redis.url(), "--rdb", "--out", "b", cwd=tmp_path)
    assert r.code == 0, r.text
    assert "Fetching the Redis server's RDB snapshot (redis-cli --rdb, a full sync)…" in r.err
    rdb = list((tmp_path / "b").glob("*.rdb"))
    assert len(rdb) == 1 and rdb[0].read_bytes().startswith(b"REDIS")
    assert rdb[0].stat().st_mode & 0o777 == 0o600
