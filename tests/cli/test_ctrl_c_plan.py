"""Ctrl-C (a real SIGINT to a real `reconciler plan` process) while the plan reads the server:
exit 130 and the one sentence that says no database was changed. (apply's Ctrl-C before and
after its COMMIT: tests/safety/test_interrupted.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parents[2]
TABLE = """\
table: {name}
columns:
  - {{name: id, type: uuid, nullable: false, default: gen_random_uuid()}}
  - {{name: created_at, type: timestamptz, nullable: false, default: now()}}
  - {{name: updated_at, type: timestamptz, nullable: false, default: now()}}
primary_key: [id]
"""


def _waiting(conn: psycopg.Connection, proc: subprocess.Popen) -> bool:
    assert proc.poll() is None, proc.communicate()
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'reconciler/plan%' "
        "AND datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()
    return row[0] > 0


def test_ctrl_c_during_plan_exits_130_and_says_nothing_changed(pg_url: str, tmp_path: Path):
    write_yaml(tmp_path, "schemas/tables/alphas.yaml", TABLE.format(name="alphas"))
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    write_yaml(tmp_path, "schemas/tables/betas.yaml", TABLE.format(name="betas"))

    holder = psycopg.connect(pg_url)
    try:
        holder.execute("LOCK TABLE reconciler.applies IN ACCESS EXCLUSIVE MODE")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        argv = [sys.executable, "-m", "reconciler", "plan", "--pg", pg_url, "--redis", ""]
        proc = subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        with psycopg.connect(pg_url, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while not _waiting(conn, proc):
                assert time.monotonic() < deadline, "the plan never waited for the held lock"
                time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        holder.rollback()
        holder.close()
    assert proc.returncode == 130, err
    assert "Interrupted; no apply or rollback was running, so no database was changed." in err
    assert "Traceback" not in err
    assert not list((tmp_path / "plans").glob("*betas*")), "an interrupted plan left files"
