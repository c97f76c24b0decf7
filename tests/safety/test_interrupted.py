"""Runs stopped by kill -9 or Ctrl-C before, around and after their COMMIT: afterwards the
database and the state agree, the next run says what became of the stopped one (read from the
state, not assumed), and `rollback --last` never moves on to a version nobody meant.

A run is held at an exact point by a lock the test takes on one of the state's tables: on
`reconciler.applies` it waits inside its transaction, before COMMIT (recording the apply or
rollback); on `reconciler.events` it waits after COMMIT (noting that the outcome was told)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.helpers import run_cli, write_yaml

ROOT = Path(__file__).resolve().parents[2]


def _table(name: str) -> str:
    return f"""\
table: {name}
columns:
  - {{name: id, type: uuid, nullable: false, default: gen_random_uuid()}}
  - {{name: created_at, type: timestamptz, nullable: false, default: now()}}
  - {{name: updated_at, type: timestamptz, nullable: false, default: now()}}
primary_key: [id]
"""


def _apply(cwd: Path, pg_url: str, *tables: str) -> None:
    for name in tables:
        write_yaml(cwd, f"schemas/tables/{name}.yaml", _table(name))
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=cwd)
    assert r.code == 0, r.text


def _exists(pg_url: str, table: str) -> bool:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]


def _history(cwd: Path, pg_url: str) -> list[tuple[str, str]]:
    r = run_cli("state", "history", "--pg", pg_url, "--json", cwd=cwd)
    return [(a["direction"], a["status"]) for a in json.loads(r.out)]


@contextmanager
def _held(pg_url: str, table: str) -> Iterator[psycopg.Connection]:
    """`table` locked against writes (reads go on) until the block ends."""
    conn = psycopg.connect(pg_url)
    try:
        conn.execute(f"LOCK TABLE reconciler.{table} IN EXCLUSIVE MODE")
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _start(cwd: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "reconciler", *args, "--auto-approve"]
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_sessions(
    pg_url: str, proc: subprocess.Popen, command: str, runs: int = 1, *, blocked: bool = True
) -> None:
    """Until `runs` sessions of the command are on the database (`blocked`: waiting for a
    lock, the test's held one)."""
    waiting = " AND wait_event_type = 'Lock'" if blocked else ""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            row = conn.execute(
                "SELECT count(DISTINCT pid) FROM pg_stat_activity WHERE application_name LIKE "
                f"%s AND datname = current_database(){waiting}",
                (f"reconciler/{command}%",),
            ).fetchone()
            if row[0] >= runs:
                return
            time.sleep(0.02)
    raise AssertionError(
        f"{runs} session(s) of the {command} never {'waited' if blocked else 'came'}"
    )


def _wait_blocked(pg_url: str, proc: subprocess.Popen, command: str) -> None:
    """Until the run's server process waits for the test's lock."""
    _wait_sessions(pg_url, proc, command)


def _killed(pg_url: str, cwd: Path, table: str, *args: str) -> None:
    """Run `args`, hold it at `table`, kill -9 it there, and let the server notice."""
    with _held(pg_url, table):
        proc = _start(cwd, *args)
        _wait_blocked(pg_url, proc, args[0])
        proc.kill()
        proc.wait(timeout=10)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        deadline = time.monotonic() + 15
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'reconciler/%' "
            "AND datname = current_database()"
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the killed run's backend never went away"
            time.sleep(0.02)


def test_a_rollback_killed_after_commit_is_said_and_no_older_version_follows(pg_url, tmp_path):
    _apply(tmp_path, pg_url, "alphas")
    _apply(tmp_path, pg_url, "betas")
    _killed(pg_url, tmp_path, "events", "rollback", "--last", "--pg", pg_url)
    assert not _exists(pg_url, "betas")  # its COMMIT reached the server
    assert _history(tmp_path, pg_url)[0] == ("down", "applied")

    retry = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert retry.code == 0, retry.text
    assert "committed before it was interrupted" in retry.err
    assert "Nothing else was rolled back" in retry.err
    assert _exists(pg_url, "alphas"), "the retry rolled back an older version"
    assert [s for d, s in _history(tmp_path, pg_url) if d == "up"] == ["rolled_back", "applied"]

    # Told once: the next one means it.
    again = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert again.code == 0, again.text
    assert not _exists(pg_url, "alphas")


def test_a_rollback_killed_before_commit_is_said_and_done_again(pg_url, tmp_path):
    _apply(tmp_path, pg_url, "alphas")
    _apply(tmp_path, pg_url, "betas")
    _killed(pg_url, tmp_path, "applies", "rollback", "--last", "--pg", pg_url)
    assert _exists(pg_url, "betas")  # rolled back by the server
    retry = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert retry.code == 0, retry.text
    assert "interrupted before it committed" in retry.err
    assert not _exists(pg_url, "betas") and _exists(pg_url, "alphas")


def test_an_apply_killed_before_commit_is_not_followed_by_rolling_back_the_one_before(
    pg_url, tmp_path
):
    _apply(tmp_path, pg_url, "alphas")
    write_yaml(tmp_path, "schemas/tables/betas.yaml", _table("betas"))
    _killed(pg_url, tmp_path, "applies", "apply", "--pg", pg_url, "--schemas", "schemas")
    assert not _exists(pg_url, "betas")
    retry = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert retry.code == 0, retry.text
    assert "interrupted before it committed: nothing of it was applied" in retry.err
    assert _exists(pg_url, "alphas"), "rolled back the version before the one meant"


def _interrupted(pg_url: str, cwd: Path, table: str, *args: str) -> tuple[int, str]:
    """Run `args`, hold it at `table`, send it SIGINT there; its exit code and stderr."""
    with _held(pg_url, table):
        proc = _start(cwd, *args)
        _wait_blocked(pg_url, proc, args[0])
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err


def test_ctrl_c_before_commit_says_nothing_was_applied(pg_url, tmp_path):
    _apply(tmp_path, pg_url, "alphas")
    write_yaml(tmp_path, "schemas/tables/betas.yaml", _table("betas"))
    code, err = _interrupted(pg_url, tmp_path, "applies", "apply", "--pg", pg_url,
                             "--schemas", "schemas")  # fmt: skip
    assert code == 130, err
    assert "Interrupted. The apply of version" in err
    assert "before it committed: nothing of it was applied" in err
    assert not _exists(pg_url, "betas")
    assert _history(tmp_path, pg_url) == [("up", "applied")]
    # Said once: the next run has nothing to tell of it (it applies that same pending plan).
    again = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve",
                    cwd=tmp_path)  # fmt: skip
    assert again.code == 0 and "interrupted" not in again.err.lower(), again.text
    assert [n for n in again.err.splitlines() if n.startswith("Note:")] == [
        n for n in again.err.splitlines() if n.startswith("Note: Plan unchanged")
    ], again.text


def test_ctrl_c_after_commit_says_it_is_applied(pg_url, tmp_path):
    _apply(tmp_path, pg_url, "alphas")
    write_yaml(tmp_path, "schemas/tables/betas.yaml", _table("betas"))
    code, err = _interrupted(pg_url, tmp_path, "events", "apply", "--pg", pg_url,
                             "--schemas", "schemas")  # fmt: skip
    assert code == 130, err
    assert "committed before it was interrupted" in err and "is applied" in err
    assert _exists(pg_url, "betas")
    assert _history(tmp_path, pg_url) == [("up", "applied"), ("up", "applied")]
    again = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve",
                    cwd=tmp_path)  # fmt: skip
    assert again.code == 0 and "Note:" not in again.err, again.text


def test_a_rollback_last_that_waited_for_another_does_not_revert_the_version_before(
    pg_url, tmp_path
):
    _apply(tmp_path, pg_url, "alphas")
    _apply(tmp_path, pg_url, "betas")
    with _held(pg_url, "applies"):
        first = _start(tmp_path, "rollback", "--last", "--pg", pg_url)
        _wait_blocked(pg_url, first, "rollback")  # holds the run lock, inside its transaction
        second = _start(tmp_path, "rollback", "--last", "--pg", pg_url, "--lock-timeout", "60")
        _wait_sessions(pg_url, second, "rollback", 2, blocked=False)  # however slowly it starts
        time.sleep(1.0)  # it read what --last means, then waits for the lock
    assert first.wait(timeout=30) == 0, first.communicate()
    _, err = second.communicate(timeout=60)
    assert second.returncode == 1, err
    assert "was rolled back by another run while this one waited" in err
    assert _exists(pg_url, "alphas") and not _exists(pg_url, "betas")


def test_ctrl_c_of_a_command_waiting_for_the_lock_says_nothing_changed(pg_url, tmp_path):
    from reconciler.locks.pg import PgLock

    with psycopg.connect(pg_url, autocommit=True) as conn, PgLock(conn, timeout=0):
        proc = _start(tmp_path, "trash", "purge", "--older-than", "0s", "--pg", pg_url,
                      "--lock-timeout", "30")  # fmt: skip
        _wait_sessions(pg_url, proc, "trash_purge", blocked=False)  # connected: at the lock
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Interrupted; no apply or rollback was running, so no database was changed." in err


def test_ctrl_c_during_a_concurrent_index_build_can_be_rolled_back(pg_url, tmp_path):
    """Ctrl-C while an index is built concurrently, after the main transaction committed:
    the build leaves an invalid index behind. That is the stopped run's own leftover, not a
    change made since: `rollback --last` takes it (it refused, the target having changed)."""
    _apply(tmp_path, pg_url, "gammas")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO gammas SELECT FROM generate_series(1, 500)")
    write_yaml(
        tmp_path,
        "schemas/tables/gammas.yaml",
        _table("gammas") + "indexes:\n  - {columns: [created_at]}\n",
    )
    writer = psycopg.connect(pg_url)  # an open write the concurrent build must wait for
    try:
        writer.execute("INSERT INTO gammas DEFAULT VALUES")
        proc = _start(tmp_path, "apply", "--pg", pg_url, "--schemas", "schemas")
        _wait_sessions(pg_url, proc, "apply")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        writer.rollback()
        writer.close()
    assert proc.returncode == 130
    with psycopg.connect(pg_url, autocommit=True) as conn:
        valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)"
        assert conn.execute(valid, ("public.idx_gammas_created_at",)).fetchone() == (False,)
    back = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert back.code == 0, back.text
    assert not _exists(pg_url, "public.idx_gammas_created_at")
    assert _exists(pg_url, "public.gammas")
