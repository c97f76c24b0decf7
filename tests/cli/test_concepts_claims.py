"""docs/concepts.md, checked on real servers: what is live but not declared is planned for
dropping and refused without --allow-destructive; drift exits 2 on an out-of-band change; a
second run does not wait for the lock unless --lock-timeout says so, and names the holder."""

from __future__ import annotations

import re
import time
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

pytestmark = pytest.mark.servers

TABLE = """\
table: {name}
columns:
  - {{name: id, type: uuid, default: gen_random_uuid()}}
  - {{name: created_at, type: timestamptz, nullable: false, default: now()}}
  - {{name: updated_at, type: timestamptz, nullable: false, default: now()}}
primary_key: [id]
"""


def _pg(pg_url: str) -> tuple[str, ...]:
    return ("--pg", pg_url, "--redis", "", "--schemas", "schemas")


def test_undeclared_is_dropped_only_with_allow_destructive(tmp_path: Path, pg_url, pg_conn):
    write_yaml(tmp_path, "schemas/tables/alphas.yaml", TABLE.format(name="alphas"))
    pg_conn.execute("CREATE TABLE strays (id int); INSERT INTO strays VALUES (1)")
    r = run_cli("plan", *_pg(pg_url), cwd=tmp_path)
    assert r.code == 0, r.text
    assert "strays" in r.text and "1 to drop" in r.text, r.text
    r = run_cli("apply", *_pg(pg_url), "--auto-approve", cwd=tmp_path)
    assert r.code == 1, r.text
    assert "refusing without --allow-destructive" in r.err, r.text
    assert pg_conn.execute("SELECT to_regclass('public.alphas')").fetchone() == (None,)
    r = run_cli("apply", *_pg(pg_url), "--auto-approve", "--allow-destructive", cwd=tmp_path)
    assert r.code == 0, r.text
    assert pg_conn.execute("SELECT to_regclass('public.strays')").fetchone() == (None,)


def test_drift_exits_2_on_an_out_of_band_change(tmp_path: Path, pg_url, pg_conn):
    write_yaml(tmp_path, "schemas/tables/alphas.yaml", TABLE.format(name="alphas"))
    assert run_cli("apply", *_pg(pg_url), "--auto-approve", cwd=tmp_path).code == 0
    assert run_cli("drift", *_pg(pg_url), cwd=tmp_path).code == 0
    pg_conn.execute("ALTER TABLE alphas ADD COLUMN note text")
    r = run_cli("drift", *_pg(pg_url), cwd=tmp_path)
    assert r.code == 2, r.text
    assert "note" in r.text


def test_a_second_run_fails_at_once_naming_the_holder(tmp_path: Path, pg_url):
    from reconciler.locks.pg import PgLock

    write_yaml(tmp_path, "schemas/tables/alphas.yaml", TABLE.format(name="alphas"))
    with psycopg.connect(pg_url, autocommit=True) as conn, PgLock(conn, timeout=0):
        started = time.monotonic()
        r = run_cli("apply", *_pg(pg_url), "--auto-approve", cwd=tmp_path)
        took = time.monotonic() - started
    assert r.code == 1, r.text
    assert re.search(r"holds the lock: host \S+ pid \d+ user \S+ .*since \d{4}-", r.err), r.err
    assert took < 5, f"waited {took:.1f} s without --lock-timeout"
