"""An apply in batches (--in-batches) stopped between two batches by kill -9 or Ctrl-C: the
batches that committed are a recorded, partial apply (state history says so), and rollback
undoes exactly them.

The run is stopped after exactly one batch: the test holds `reconciler.events` (each batch
notes itself there before its COMMIT), queues a second hold behind the run's first batch,
then lets go of the first: batch 1 commits, and batch 2 waits for the second hold."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from reconciler import dev
from reconciler.state.postgres import PgState
from tests.apply.test_lock_table import TABLES, _schemas, _tables, url  # noqa: F401
from tests.helpers import run_cli
from tests.safety.test_interrupted import _held, _start, _wait_blocked


@pytest.fixture(scope="module")
def small_server(server_dir: Path) -> Iterator[dev.PgServer]:
    """A lock table as small as tests/apply/test_lock_table.py's, on a cluster of this module's
    own (the lock table grows into spare shared memory as it is used: its tests need theirs
    new)."""
    settings = ("max_locks_per_transaction=10", "max_connections=10")
    server = dev.start_postgres(server_dir / "pg-small-locks-batches", settings=settings)
    try:
        yield server
    finally:
        server.stop()


def _waiting(conn: psycopg.Connection, pid: int) -> bool:
    row = conn.execute(
        "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone()
    return bool(row and row[0])


def _stop_after_first_batch(url: str, tmp_path, stop, *args: str) -> tuple[int, str]:  # noqa: F811
    """Run `args` (else an apply of the tables, in batches) and stop it after batch 1."""
    schemas = _schemas(tmp_path / "s")
    args = args or ("apply", "--pg", url, "--schemas", str(schemas), "--in-batches")
    with psycopg.connect(url, autocommit=True) as conn:
        PgState(conn).ensure()  # the state's tables, to hold one of them
    second = psycopg.connect(url)
    with _held(url, "events"):
        proc = _start(tmp_path, *args)
        _wait_blocked(url, proc, args[0])  # batch 1, before its COMMIT
        queued = threading.Thread(
            target=second.execute, args=("LOCK TABLE reconciler.events IN EXCLUSIVE MODE",)
        )
        queued.start()
        with psycopg.connect(url, autocommit=True) as watch:
            while not _waiting(watch, second.info.backend_pid):
                time.sleep(0.02)
    queued.join(timeout=30)  # batch 1 committed; batch 2 now waits for `second`
    _wait_blocked(url, proc, args[0])
    stop(proc)
    if proc.poll() is None and stop is not _kill:
        time.sleep(0.3)
    second.rollback()
    second.close()
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err


def _kill(proc) -> None:
    proc.kill()


def _interrupt(proc) -> None:
    proc.send_signal(signal.SIGINT)


def _partial(db: str, tmp_path) -> dict:
    history = json.loads(run_cli("state", "history", "--pg", db, "--json", cwd=tmp_path).out)
    assert [(h["direction"], h["status"]) for h in history] == [("up", "applied")]
    return history[0]


def _rolled_back_exactly(db: str, tmp_path) -> None:
    text = run_cli("state", "history", "--pg", db, cwd=tmp_path).out
    assert f"partial: {_tables(db)} of {TABLES} changes" in text
    back = run_cli("rollback", "--last", "--pg", db, "--auto-approve", "--in-batches",
                   cwd=tmp_path)  # fmt: skip
    assert back.code == 0, back.text
    assert _tables(db) == 0
    again = run_cli("apply", "--pg", db, "--schemas", str(tmp_path / "s"), "--auto-approve",
                    "--in-batches", cwd=tmp_path)  # fmt: skip
    assert again.code == 0, again.text
    assert _tables(db) == TABLES


def test_kill_9_between_batches_leaves_a_recorded_partial_apply(url, tmp_path):  # noqa: F811
    _stop_after_first_batch(url, tmp_path, _kill)
    made = _tables(url)
    assert 0 < made < TABLES, "the run was not stopped between batches"
    part = _partial(url, tmp_path)
    assert part["partial"]["batch"] == 1 and part["changes"] == made
    note = run_cli("rollback", "--last", "--pg", url, "--auto-approve", "--in-batches",
                   cwd=tmp_path)  # fmt: skip
    # The next run says what became of the killed one, then reverts exactly what committed.
    assert "after 1 of its" in note.err and "batches committed" in note.err, note.text
    assert note.code == 0 and _tables(url) == 0


def test_ctrl_c_between_batches_says_which_committed(url, tmp_path):  # noqa: F811
    code, err = _stop_after_first_batch(url, tmp_path, _interrupt)
    assert code == 130, err
    assert "Interrupted. The apply" in err and "after 1 of its" in err, err
    made = _tables(url)
    assert 0 < made < TABLES
    assert _partial(url, tmp_path)["changes"] == made
    _rolled_back_exactly(url, tmp_path)


@pytest.mark.parametrize("stop", [_kill, _interrupt], ids=["kill-9", "ctrl-c"])
def test_a_rollback_in_batches_stopped_between_batches_is_recorded_in_part(
    url,  # noqa: F811
    tmp_path,
    stop,
):
    schemas = _schemas(tmp_path / "s")
    done = run_cli("apply", "--pg", url, "--schemas", str(schemas), "--auto-approve",
                   "--in-batches", cwd=tmp_path)  # fmt: skip
    assert done.code == 0, done.text
    args = ("rollback", "--last", "--pg", url, "--in-batches")
    code, err = _stop_after_first_batch(url, tmp_path, stop, *args)
    left = _tables(url)
    assert 0 < left < TABLES, "the rollback was not stopped between batches"
    if stop is _interrupt:
        assert code == 130 and "after 1 of its" in err and "stays applied" in err, err
    history = json.loads(run_cli("state", "history", "--pg", url, "--json", cwd=tmp_path).out)
    # what is left of the version is applied, partial; the reverted part is rolled back
    assert [(h["direction"], h["status"]) for h in history[:3]] == [
        ("up", "applied"),
        ("down", "applied"),
        ("up", "rolled_back"),
    ]
    assert history[0]["partial"]["changes"] == left
    assert history[1]["changes"] == TABLES - left
    back = run_cli("rollback", "--last", "--pg", url, "--auto-approve", "--in-batches",
                   cwd=tmp_path)  # fmt: skip
    assert back.code == 0, back.text
    assert _tables(url) == 0
    if stop is _kill:
        assert "after 1 of its" in back.err and "stays applied" in back.err, back.err
    again = run_cli("apply", "--pg", url, "--schemas", str(schemas), "--auto-approve",
                    "--in-batches", cwd=tmp_path)  # fmt: skip
    assert again.code == 0 and _tables(url) == TABLES, again.text
