"""The apply lock against a real server: contention, waiting, dead holders, force-unlock."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo, sql

from reconciler import errors
from reconciler.connect.appname import APP_NAME_MAX, application_name
from reconciler.locks.pg import LOCK_KEY, PgLock, force_unlock, lock_holder
from reconciler.state.base import Actor

REPO = Path(__file__).resolve().parents[2]
ME = Actor.current()

Connect = Callable[..., psycopg.Connection]


@pytest.fixture
def connect(pg_url: str) -> Iterator[Connect]:
    """Factory of extra autocommit connections to the test database, all closed afterwards."""
    opened: list[psycopg.Connection] = []

    def make(command: str = "apply") -> psycopg.Connection:
        conn = psycopg.connect(pg_url, autocommit=True, application_name=application_name(command))
        opened.append(conn)
        return conn

    yield make
    for conn in opened:
        conn.close()


def _wait_free(conn: psycopg.Connection, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while lock_holder(conn) is not None:
        assert time.monotonic() < deadline, "the lock was never freed"
        time.sleep(0.02)


# --- naming -------------------------------------------------------------------------------------


def test_key_is_derived_from_the_name() -> None:
    digest = hashlib.sha256(b"reconciler").digest()
    assert int.from_bytes(digest[:8], "big", signed=True) == LOCK_KEY
    assert -(2**63) <= LOCK_KEY < 2**63


def test_application_name_identifies_the_process() -> None:
    actor = Actor(host="ci-7", pid=4242, user="deploy")
    assert (
        application_name("apply", actor=actor) == "reconciler/apply host=ci-7 pid=4242 user=deploy"
    )


def test_application_name_fits_63_bytes_keeping_pid_and_user() -> None:
    actor = Actor(host="ip-10-0-12-34.eu-west-1.compute.internal", pid=4194304, user="deploy")
    name = application_name("rollback", actor=actor)
    assert len(name.encode()) <= APP_NAME_MAX
    assert name.startswith("reconciler/rollback host=ip-10-0-12-34")
    assert name.endswith(" pid=4194304 user=deploy")


def test_application_name_is_plain_ascii_without_inner_spaces() -> None:
    name = application_name("apply", actor=Actor(host="hôte", pid=1, user="Jane Doe"))
    assert name == "reconciler/apply host=h?te pid=1 user=Jane_Doe"


# --- holding ------------------------------------------------------------------------------------


def test_holder_is_none_when_free(pg_conn: psycopg.Connection) -> None:
    assert lock_holder(pg_conn) is None


def test_a_holder_on_a_database_without_state_is_described(connect: Connect) -> None:
    holder_conn, observer = connect("apply"), connect("lock")
    holder_conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))  # no note, no schema
    holder = lock_holder(observer)
    assert holder is not None
    assert (holder.backend_pid, holder.pid, holder.since_source) == (
        holder_conn.info.backend_pid,
        ME.pid,
        "backend_start",
    )
    found = observer.execute("SELECT to_regnamespace('reconciler')").fetchone()
    assert found == (None,)  # looking created nothing


@pytest.fixture
def unprivileged_url(pg_url: str, pg_conn: psycopg.Connection) -> Iterator[str]:
    """A URL for a fresh LOGIN role with no grants (roles are cluster-wide: unique name)."""
    role = f"observer_{uuid.uuid4().hex[:12]}"
    pg_conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        yield conninfo.make_conninfo(pg_url, user=role)
    finally:
        pg_conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_an_unprivileged_observer_still_learns_who_holds_it(
    connect: Connect, unprivileged_url: str
) -> None:
    holder_conn = connect("apply")
    with PgLock(holder_conn), psycopg.connect(unprivileged_url, autocommit=True) as observer:
        holder = lock_holder(observer)
        assert holder is not None
        # No access to the note, and backend_start is hidden for other roles' sessions, but
        # application_name is public.
        assert (holder.backend_pid, holder.host, holder.pid, holder.user, holder.command) == (
            holder_conn.info.backend_pid,
            ME.host,
            ME.pid,
            ME.user,
            "apply",
        )
        assert (holder.since, holder.since_source, holder.client_addr) == (None, "unknown", None)
        assert holder.describe() == (
            f"host {ME.host} pid {ME.pid} user {ME.user} (backend pid {holder.backend_pid})"
        )


def test_force_unlock_without_the_right_to_terminate_is_refused_in_a_sentence(
    connect: Connect, unprivileged_url: str
) -> None:
    holder_conn = connect("apply")
    with PgLock(holder_conn), psycopg.connect(unprivileged_url, autocommit=True) as observer:
        pid = holder_conn.info.backend_pid
        with pytest.raises(errors.Refused, match=rf"Not allowed to terminate backend {pid}: "):
            force_unlock(observer, pid)
        assert lock_holder(observer).backend_pid == pid


def test_lock_calls_refuse_a_connection_outside_autocommit(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn, pytest.raises(ValueError, match="autocommit"):
        PgLock(conn)


def test_holder_is_described_with_the_time_the_lock_was_taken(connect: Connect) -> None:
    first, observer = connect("apply"), connect("lock")
    before = datetime.now(UTC)
    with PgLock(first):
        holder = lock_holder(observer)
        assert first.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert holder is not None
    assert holder.backend_pid == first.info.backend_pid
    assert (holder.host, holder.pid, holder.user, holder.command) == (
        ME.host,
        ME.pid,
        ME.user,
        "apply",
    )
    assert holder.since_source == "lock"
    assert holder.since is not None
    assert before - timedelta(seconds=5) < holder.since < datetime.now(UTC) + timedelta(seconds=5)
    assert holder.application_name == application_name("apply")
    stamp = holder.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert holder.describe() == (
        f"host {ME.host} pid {ME.pid} user {ME.user} "
        f"(backend pid {first.info.backend_pid}) since {stamp}"
    )
    assert lock_holder(observer) is None  # released on leaving the block


def test_second_run_fails_fast_naming_the_holder(connect: Connect) -> None:
    first, second = connect("apply"), connect("apply")
    timeout = 0.5
    with PgLock(first):
        started = time.monotonic()
        with pytest.raises(errors.LockHeld) as caught:
            PgLock(second, timeout=timeout).acquire()
        elapsed = time.monotonic() - started
    assert timeout <= elapsed < timeout + 0.5
    pid = first.info.backend_pid
    summary = re.escape(
        f"Another apply holds the lock: host {ME.host} pid {ME.pid} user {ME.user} "
        f"(backend pid {pid}) since "
    )
    assert re.fullmatch(summary + r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.", caught.value.summary)
    assert caught.value.detail == (
        "Wait for it to finish (or pass --lock-timeout SECONDS to wait longer); "
        f"if that run is gone, run `reconciler lock force-unlock {pid}`."
    )
    assert second.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_zero_timeout_fails_at_once(connect: Connect) -> None:
    first, second = connect(), connect()
    with PgLock(first):
        started = time.monotonic()
        with pytest.raises(errors.LockHeld):
            PgLock(second).acquire()
        assert time.monotonic() - started < 0.3


def test_waiting_succeeds_when_the_holder_releases(connect: Connect) -> None:
    first, second = connect(), connect()
    holding = PgLock(first)
    holding.acquire()
    timer = threading.Timer(0.4, holding.release)
    timer.start()
    try:
        started = time.monotonic()
        with PgLock(second, timeout=10):
            elapsed = time.monotonic() - started
            assert lock_holder(first).backend_pid == second.info.backend_pid
    finally:
        timer.join()
    assert 0.4 <= elapsed < 3.0  # released at 0.4 s; the backoff is capped at 2 s


def test_closing_the_holder_connection_frees_the_lock(connect: Connect) -> None:
    first, second = connect(), connect()
    PgLock(first).acquire()
    first.close()
    with PgLock(second, timeout=5):
        assert lock_holder(second).backend_pid == second.info.backend_pid


def test_terminating_the_holder_backend_frees_the_lock(connect: Connect) -> None:
    first, second = connect(), connect()
    lock = PgLock(first)
    lock.acquire()
    second.execute("SELECT pg_terminate_backend(%s)", (first.info.backend_pid,))
    with PgLock(second, timeout=5):
        assert lock_holder(second).backend_pid == second.info.backend_pid
    lock.release()  # on a dead connection: nothing to do, and no error


def test_release_is_idempotent_and_reacquire_works(connect: Connect) -> None:
    conn = connect()
    lock = PgLock(conn)
    lock.acquire()
    lock.release()
    lock.release()
    assert lock_holder(conn) is None
    lock.acquire()
    assert lock_holder(conn).backend_pid == conn.info.backend_pid
    lock.release()


_HOLDER_SCRIPT = """
import sys, time, psycopg
from reconciler.connect.appname import application_name
from reconciler.locks.pg import PgLock
conn = psycopg.connect(sys.argv[1], autocommit=True, application_name=application_name("apply"))
PgLock(conn).acquire()
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def spawn_holder(pg_url: str) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    """Start a separate OS process that takes the lock and sleeps; killed afterwards."""
    children: list[subprocess.Popen[str]] = []

    def spawn() -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        child = subprocess.Popen(
            [sys.executable, "-c", _HOLDER_SCRIPT, pg_url],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        children.append(child)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        return child

    yield spawn
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait()


def test_a_killed_process_frees_the_lock(
    connect: Connect, spawn_holder: Callable[[], subprocess.Popen[str]]
) -> None:
    ours = connect()
    child = spawn_holder()
    holder = lock_holder(ours)
    assert holder is not None
    assert (holder.pid, holder.host, holder.user) == (child.pid, ME.host, ME.user)
    with pytest.raises(errors.LockHeld, match=rf"pid {child.pid} user "):
        PgLock(ours, timeout=0.2).acquire()

    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with PgLock(ours, timeout=5):
        assert lock_holder(ours).backend_pid == ours.info.backend_pid


def test_force_unlock_terminates_only_the_holder(
    connect: Connect, spawn_holder: Callable[[], subprocess.Popen[str]]
) -> None:
    ours, bystander = connect("lock"), connect("plan")
    child = spawn_holder()
    holder = lock_holder(ours)
    assert holder is not None

    assert force_unlock(ours, bystander.info.backend_pid) is False
    assert force_unlock(ours, ours.info.backend_pid) is False
    assert bystander.execute("SELECT 1").fetchone() == (1,)  # still alive
    assert lock_holder(ours).backend_pid == holder.backend_pid

    assert force_unlock(ours, holder.backend_pid) is True
    assert lock_holder(ours) is None
    assert force_unlock(ours, holder.backend_pid) is False  # nothing to break any more
    with PgLock(ours):
        pass
    # The holder's process lives on, but without its connection it can no longer apply.
    assert child.poll() is None


def test_force_unlock_refuses_our_own_backend(connect: Connect) -> None:
    conn = connect()
    with PgLock(conn):
        assert force_unlock(conn, conn.info.backend_pid) is False
        assert lock_holder(conn).backend_pid == conn.info.backend_pid


def test_a_stale_note_is_ignored_and_names_fall_back_to_application_name(
    pg_url: str, connect: Connect, spawn_holder: Callable[[], subprocess.Popen[str]]
) -> None:
    ours, later = connect(), connect("rollback")
    child = spawn_holder()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    _wait_free(ours)
    # The dead run's note row is still there. A holder that wrote no note of its own (a bare
    # pg_advisory_lock) must be described from pg_stat_activity, not from that row.
    later.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    holder = lock_holder(ours)
    assert holder is not None
    assert (holder.backend_pid, holder.host, holder.pid, holder.user, holder.command) == (
        later.info.backend_pid,
        ME.host,
        ME.pid,
        ME.user,
        "rollback",
    )
    assert holder.since_source == "backend_start"
    assert " connected since " in holder.describe()
    later.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))

    with psycopg.connect(pg_url, autocommit=True) as stranger:  # not a Reconciler connection
        stranger.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        holder = lock_holder(ours)
        assert holder is not None
        assert (holder.host, holder.pid, holder.user, holder.command) == (None, None, None, None)
        assert holder.describe().startswith(f"db user {holder.db_user} (backend pid ")
