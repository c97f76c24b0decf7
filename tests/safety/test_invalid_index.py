"""An index left invalid by a CREATE INDEX CONCURRENTLY that never finished (the apply killed
while the build waits) is not the index the YAML declares: plan and apply drop it and build it
again, saying why; a re-plan after that is empty, the rollback takes the index away, and drift
calls it invalid. An invalid index the YAML does not declare is dropped without
--allow-destructive, and a rollback does not build it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.cli.test_json_schemas import errors
from tests.helpers import run_cli, write_yaml

ROOT = Path(__file__).resolve().parents[2]
INDEX = "pg.index.public.idx_runs_name"

_RUNS = """\
table: runs
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: name, type: text, nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
"""
_WITH_INDEX = _RUNS + "indexes:\n  - {name: idx_runs_name, columns: [name]}\n"


def _cli(cwd: Path, *args: str) -> tuple[int, str]:
    r = run_cli(*args, cwd=cwd)
    return r.code, r.text


def _json(cwd: Path, *args: str) -> dict:
    r = run_cli(*args, "--json", cwd=cwd)
    assert r.code == 2, r.text
    return json.loads(r.out)


def _state(pg_url: str, name: str) -> tuple[bool, bool] | None:
    """(indisvalid, indisready) of the index, None when there is none."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT i.indisvalid, i.indisready FROM pg_index AS i "
            "JOIN pg_class AS c ON c.oid = i.indexrelid WHERE c.relname = %s",
            (name,),
        ).fetchone()
    return None if row is None else (row[0], row[1])


def _table_with_rows(cwd: Path, pg_url: str) -> None:
    write_yaml(cwd, "schemas/tables/runs.yaml", _RUNS)
    code, text = _cli(cwd, "apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve")
    assert code == 0, text
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO runs (name) SELECT 'run ' || n FROM generate_series(1, 500) n")


@contextmanager
def _holding(pg_url: str, how: str) -> Iterator[None]:
    """A session that makes CREATE INDEX CONCURRENTLY wait: an old REPEATABLE READ snapshot
    (the build waits after it is ready, before it is valid) or an open write on the table
    (the build waits before it is even ready)."""
    conn = psycopg.connect(pg_url)
    try:
        if how == "old snapshot":
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            conn.execute("SELECT count(*) FROM pg_class")
        else:
            conn.execute("INSERT INTO runs (name) VALUES ('held')")
        yield
    finally:
        conn.rollback()
        conn.close()


def _backends(conn: psycopg.Connection) -> list[int]:
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'reconciler/%' "
        "AND datname = current_database()"
    ).fetchall()
    return [r[0] for r in rows]


def _kill_during_build(cwd: Path, pg_url: str, how: str, *, finished: bool = False) -> None:
    """Apply the index, kill -9 the run while its CREATE INDEX CONCURRENTLY waits, and end its
    server process as the server does when the waiting statement times out; `finished`: let
    the server go on instead, once the session holding the build lets go (it finishes it)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "reconciler", "apply", "--pg", pg_url, "--schemas", "schemas"]
    with psycopg.connect(pg_url, autocommit=True) as watch:
        with _holding(pg_url, how):
            proc = subprocess.Popen(
                [*argv, "--auto-approve", "--ddl-lock-timeout", "60s"],
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 30
            while not watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
                "'reconciler/%' AND datname = current_database() AND wait_event_type = 'Lock' "
                "AND query ILIKE 'CREATE INDEX CONCURRENTLY%'"
            ).fetchone()[0]:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the build never waited"
                time.sleep(0.02)
            proc.kill()
            proc.wait(timeout=10)
            for pid in [] if finished else _backends(watch):
                watch.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 15
        while _backends(watch):
            assert time.monotonic() < deadline, "the killed run's backend never went away"
            time.sleep(0.02)


@pytest.mark.parametrize(
    ("how", "left"),
    [("old snapshot", (False, True)), ("open write", (False, False))],
)
def test_an_index_left_by_a_killed_build_is_rebuilt_and_rolled_back(pg_url, tmp_path, how, left):
    _table_with_rows(tmp_path, pg_url)
    write_yaml(tmp_path, "schemas/tables/runs.yaml", _WITH_INDEX)
    _kill_during_build(tmp_path, pg_url, how)
    assert _state(pg_url, "idx_runs_name") == left  # invalid (and, the earlier, not ready)

    schemas = ("--pg", pg_url, "--schemas", "schemas")
    report = _json(tmp_path, "drift", *schemas)
    assert {(d["address"], d["change"]) for d in report["recorded"]} >= {(INDEX, "invalid")}
    assert INDEX in {d["address"] for d in report["desired"]}

    plan = _json(tmp_path, "plan", *schemas, "--detailed-exitcode")
    (change,) = [c for c in plan["changes"] if c["address"] == INDEX]
    assert "left invalid by an interrupted build" in change["description"]
    assert {h["code"] for h in change["hazards"]} == {"invalid_index", "concurrent_build"}
    assert change["up"][0] == 'DROP INDEX CONCURRENTLY IF EXISTS "public"."idx_runs_name"'
    assert change["down"] == ['DROP INDEX IF EXISTS "public"."idx_runs_name"']

    code, text = _cli(tmp_path, "apply", *schemas, "--auto-approve")
    assert code == 0, text
    assert _state(pg_url, "idx_runs_name") == (True, True)
    code, text = _cli(tmp_path, "plan", *schemas, "--detailed-exitcode")
    assert code == 0 and "No changes" in text, text
    code, text = _cli(tmp_path, "drift", *schemas)
    assert code == 0, text

    code, text = _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert code == 0, text
    assert _state(pg_url, "idx_runs_name") is None


def test_an_undeclared_invalid_index_is_dropped_without_being_built_back(pg_url, tmp_path):
    _table_with_rows(tmp_path, pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE runs SET name = 'same'")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY runs_name_key ON runs (name)")
    assert _state(pg_url, "runs_name_key") == (False, False)

    schemas = ("--pg", pg_url, "--schemas", "schemas")
    plan = _json(tmp_path, "plan", *schemas, "--detailed-exitcode")
    (change,) = plan["changes"]
    assert change["action"] == "drop" and change["down"] == []
    assert "invalid_index" in {h["code"] for h in change["hazards"]}

    # no --allow-destructive: it holds no data
    code, text = _cli(tmp_path, "apply", *schemas, "--auto-approve")
    assert code == 0, text
    assert _state(pg_url, "runs_name_key") is None
    code, text = _cli(tmp_path, "plan", *schemas, "--detailed-exitcode")
    assert code == 0, text

    # building it back would fail on the duplicates, and it never served a query anyway
    code, text = _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert code == 0, text
    assert _state(pg_url, "runs_name_key") is None


def test_an_index_the_server_finished_after_its_run_was_killed_is_that_runs(pg_url, tmp_path):
    """kill -9 while the build waits, and the server goes on to finish it: the index is the
    killed apply's own, recorded as begun. drift says so, not that someone added it, and
    `rollback --last` takes it away without --force."""
    _table_with_rows(tmp_path, pg_url)
    write_yaml(tmp_path, "schemas/tables/runs.yaml", _WITH_INDEX)
    _kill_during_build(tmp_path, pg_url, "old snapshot", finished=True)
    if _state(pg_url, "idx_runs_name") != (True, True):
        pytest.skip("this server stopped the build when its client went away")
    # The run recorded the index's change as begun, never as done: the history says so.
    history = run_cli("state", "history", "--pg", pg_url, cwd=tmp_path)
    assert "partial: 0 of 1 change done, 1 begun" in history.out, history.text
    records = json.loads(run_cli("state", "history", "--pg", pg_url, "--json", cwd=tmp_path).out)
    assert records[0]["partial"] == {"batch": 1, "of": 1, "changes": 1, "finished": 0,
                                     "of_changes": 1}  # fmt: skip
    assert errors("state-history.v1.schema.json", records) == []
    report = run_cli("drift", "--pg", pg_url, "--schemas", "schemas", "--json", cwd=tmp_path)
    recorded = {(d["address"], d["change"]) for d in json.loads(report.out)["recorded"]}
    assert (INDEX, "added") not in recorded, report.text
    assert (INDEX, "unfinished") in recorded, report.text
    text = run_cli("drift", "--pg", pg_url, "--schemas", "schemas", cwd=tmp_path)
    assert "not by Reconciler" not in text.out and "interrupted apply" in text.out, text.text
    code, text = _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert code == 0, text
    assert _state(pg_url, "idx_runs_name") is None
