"""The state backend conformance suite, plus what only the Postgres backend can promise.

TestConformance runs once per backend kit (KITS: postgres, file). A kit makes a fresh backend
and provides the few things the suite cannot do through the protocol: spawn another process
that starts an attempt (then gets killed), open a transaction of the caller's, and plant a newer
format marker. A new backend adds a kit to KITS and must pass every test.

The tests marked `@postgres_only` inside TestConformance assert that state writes share the
caller's Postgres transaction. Only PgState has one to share: FileState commits every write at
once (see reconciler/state/file.py), its kit returns None from transaction(), and those tests are
not run for it. What only one backend promises is tested after the class.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import psycopg
import pytest

from reconciler import errors
from reconciler.state import file as file_state
from reconciler.state.base import Actor, ApplyRecord, StateBackend
from reconciler.state.file import FileState
from reconciler.state.postgres import DDL_LOCK_KEY, FORMAT_VERSION, PgState

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


class Kit(Protocol):
    format_version: int

    def make(self) -> StateBackend: ...
    def spawn_attempt(self, version: str) -> subprocess.Popen[str]: ...
    def transaction(self) -> contextlib.AbstractContextManager[object] | None: ...
    def set_format_version(self, version: int) -> None: ...


_PG_CHILD = """
import sys, time, psycopg
from reconciler.state.postgres import PgState
conn = psycopg.connect(sys.argv[1], autocommit=True)
state = PgState(conn)
attempt = state.begin_attempt(sys.argv[2])
with conn.transaction():  # the apply transaction, killed half-way
    conn.execute("CREATE TABLE half_done (id int)")
    print(attempt, flush=True)
    time.sleep(120)
"""


class PgKit:
    format_version = FORMAT_VERSION

    def __init__(self, url: str, conn: psycopg.Connection) -> None:
        self.url, self.conn = url, conn

    def make(self) -> StateBackend:
        return PgState(self.conn)

    def spawn_attempt(self, version: str) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        argv = [sys.executable, "-c", _PG_CHILD, self.url, version]
        return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)

    def transaction(self) -> contextlib.AbstractContextManager[object]:
        return self.conn.transaction()

    def set_format_version(self, version: int) -> None:
        self.conn.execute(
            "UPDATE reconciler.meta SET value = %s WHERE name = 'format_version'", (str(version),)
        )


_FILE_CHILD = """
import sys, time
from pathlib import Path
from reconciler.state.file import FileState
state = FileState(Path(sys.argv[1]))
attempt = state.begin_attempt(sys.argv[2])
print(attempt, flush=True)
time.sleep(120)  # the apply, killed half-way
"""


class FileKit:
    format_version = file_state.FORMAT_VERSION

    def __init__(self, root: Path) -> None:
        self.root = root

    def make(self) -> StateBackend:
        return FileState(self.root)

    def spawn_attempt(self, version: str) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        argv = [sys.executable, "-c", _FILE_CHILD, str(self.root), version]
        return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)

    def transaction(self) -> None:
        return None  # no transactions to share: every write commits at once

    def set_format_version(self, version: int) -> None:
        (self.root / "meta.json").write_text(json.dumps({"format_version": version}))


# The postgres kit asks for its database on the fly (request.getfixturevalue), which the
# automatic `servers` marker (tests/markers.py) cannot see: it is marked here.
POSTGRES_KIT = pytest.param("postgres", marks=pytest.mark.servers)
KITS = [POSTGRES_KIT, "file"]


@pytest.fixture(params=KITS)
def kit(request: pytest.FixtureRequest, tmp_path: Path) -> Kit:
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        return PgKit(url, request.getfixturevalue("pg_conn"))
    if request.param == "file":
        return FileKit(tmp_path / "state")
    raise AssertionError(f"no kit for {request.param}")


# Inside TestConformance: a test of the caller's-transaction promise, which only PgState makes.
postgres_only = pytest.mark.parametrize("kit", [POSTGRES_KIT], indirect=True)


@pytest.fixture
def state(kit: Kit) -> StateBackend:
    return kit.make()


def up(version: str, **overrides: Any) -> ApplyRecord:
    minutes = int(version[-4:-2])
    fields: dict[str, Any] = {
        "version": version,
        "slug": f"change_{version[-4:]}",
        "started_at": T0 + timedelta(minutes=minutes),
        "finished_at": T0 + timedelta(minutes=minutes, seconds=2),
        "up_sha256": "a" * 64,
        "down_sha256": "b" * 64,
        "up_sql": f"CREATE TABLE t_{version} (id uuid PRIMARY KEY);\n",
        "down_sql": f"DROP TABLE IF EXISTS t_{version};\n",
        "plan": {"format_version": 1, "changes": [{"address": f"pg.table.public.t_{version}"}]},
        "desired_hash": "d" * 64,
        "fingerprint_before": "0" * 64,
        "fingerprint_after": "1" * 64,
        "change_count": 1,
        "log_path": f"state/logs/{version}.log",
    }
    return ApplyRecord(**{**fields, **overrides})


def down(version: str) -> ApplyRecord:
    return up(version, direction="down", slug="rollback", change_count=1)


def inv(*addresses: str, rev: int = 1) -> dict[str, Mapping[str, Any]]:
    return {a: {"name": a.rsplit(".", 1)[-1], "rev": rev} for a in addresses}


V1, V2, V3 = "20261125120100", "20261125120200", "20261125120300"


class TestConformance:
    def test_fresh_state_reads_empty(self, state: StateBackend) -> None:
        assert state.exists() is False
        assert state.history() == []
        assert state.last_applied() is None
        assert state.get(V1) is None
        assert state.attempts() == []
        assert state.inventory() == {}
        assert state.events() == []
        assert state.exists() is False  # reading created nothing

    def test_ensure_is_idempotent(self, state: StateBackend) -> None:
        state.ensure()
        assert state.exists() is True
        state.ensure()
        state.record_apply(up(V1), inv("pg.table.public.a"))
        state.ensure()
        assert [r.version for r in state.history()] == [V1]

    def test_writes_create_the_state_on_first_use(self, state: StateBackend) -> None:
        state.record_event("note", None, {"why": "first use"})
        assert state.exists() is True

    def test_a_record_reads_back_whole(self, state: StateBackend) -> None:
        rec = up(V1, db_user=None)
        state.record_apply(rec, inv("pg.table.public.a"))
        got = state.get(V1)
        assert got is not None and got.id is not None
        me = Actor.current()
        assert (got.os_user, got.host, got.os_pid) == (me.user, me.host, me.pid)
        assert got.db_user  # filled in by the backend
        assert got.duration_ms == 2000
        compared = {"id", "db_user"}
        for name in ApplyRecord.__dataclass_fields__:
            if name not in compared:
                assert getattr(got, name) == getattr(rec, name), name

    def test_history_is_newest_first_and_last_applied_is_the_newest_up(
        self, state: StateBackend
    ) -> None:
        for version in (V1, V2, V3):
            state.record_apply(up(version), inv(f"pg.table.public.t{version}"))
        assert [r.version for r in state.history()] == [V3, V2, V1]
        assert [r.version for r in state.history(limit=2)] == [V3, V2]
        last = state.last_applied()
        assert last is not None and last.version == V3
        assert state.get(V2).slug == up(V2).slug
        assert state.get("20000101000000") is None

    def test_applying_an_applied_version_again_is_refused(self, state: StateBackend) -> None:
        state.record_apply(up(V1), {})
        with pytest.raises(errors.Refused, match=f"{V1} is already applied"):
            state.record_apply(up(V1), {})

    def test_rollback_flips_the_status_and_moves_last_applied_back(
        self, state: StateBackend
    ) -> None:
        state.record_apply(up(V1), inv("pg.table.public.a"))
        state.record_apply(up(V2), inv("pg.table.public.a", "pg.table.public.b"))
        state.mark_rolled_back(V2, down(V2), inv("pg.table.public.a"))

        assert state.get(V2).status == "rolled_back"
        assert state.get(V1).status == "applied"
        assert state.last_applied().version == V1
        assert [(r.version, r.direction, r.status) for r in state.history()] == [
            (V2, "down", "applied"),
            (V2, "up", "rolled_back"),
            (V1, "up", "applied"),
        ]
        assert state.history()[0].down_sql == down(V2).down_sql
        assert set(state.inventory()) == {"pg.table.public.a"}

        with pytest.raises(errors.Refused, match=f"{V2} is not applied"):
            state.mark_rolled_back(V2, down(V2), {})
        state.record_apply(up(V2), {})  # a rolled-back version can be applied again
        assert state.last_applied().version == V2
        assert state.get(V2).status == "applied"

    def test_rolling_back_everything_leaves_nothing_applied(self, state: StateBackend) -> None:
        state.record_apply(up(V1), inv("pg.table.public.a"))
        state.mark_rolled_back(V1, down(V1), {})
        assert state.last_applied() is None
        assert state.inventory() == {}

    def test_attempts_record_outcomes_newest_first(self, state: StateBackend) -> None:
        first = state.begin_attempt(V1)
        assert [(a.id, a.status) for a in state.attempts()] == [(first, "running")]
        state.finish_attempt(first, "succeeded")
        second = state.begin_attempt(V2, direction="down")
        state.finish_attempt(second, "failed", error="relation t already exists")

        newest, oldest = state.attempts()
        assert (newest.id, newest.version, newest.direction, newest.status) == (
            second,
            V2,
            "down",
            "failed",
        )
        assert newest.error == "relation t already exists"
        assert (oldest.id, oldest.status, oldest.error) == (first, "succeeded", None)
        assert oldest.finished_at is not None and oldest.finished_at >= oldest.started_at
        assert oldest.os_pid == os.getpid()
        assert [a.id for a in state.attempts(limit=1)] == [second]

    def test_an_attempt_killed_midway_reads_interrupted(self, kit: Kit) -> None:
        state = kit.make()
        child = kit.spawn_attempt(V1)
        try:
            assert child.stdout is not None
            attempt_id = int(child.stdout.readline())
            assert [(a.id, a.status) for a in state.attempts()] == [(attempt_id, "running")]
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait()
        deadline = time.monotonic() + 10
        while (status := state.attempts()[0].status) == "running":
            assert time.monotonic() < deadline, "a killed attempt still reads 'running'"
            time.sleep(0.05)
        assert status == "interrupted"
        assert state.attempts()[0].os_pid == child.pid
        assert state.history() == []

    @postgres_only
    def test_begin_attempt_refuses_to_run_inside_a_transaction(self, kit: Kit) -> None:
        state, scope = kit.make(), kit.transaction()
        assert scope is not None
        state.ensure()
        with scope, pytest.raises(RuntimeError, match="outside any transaction"):
            state.begin_attempt(V1)

    @postgres_only
    def test_apply_rows_share_the_callers_transaction(self, kit: Kit) -> None:
        state = kit.make()
        state.record_apply(up(V1), inv("pg.table.public.a"))
        attempt = state.begin_attempt(V2)

        class Abort(Exception):
            pass

        with pytest.raises(Abort), kit.transaction():
            state.record_apply(up(V2), inv("pg.table.public.b"))
            state.finish_attempt(attempt, "succeeded")
            state.record_event("apply", V2, {})
            assert state.last_applied().version == V2  # visible inside the transaction
            raise Abort

        assert [r.version for r in state.history()] == [V1]
        assert set(state.inventory()) == {"pg.table.public.a"}
        assert state.attempts()[0].status == "running"
        assert state.events() == []

        with kit.transaction():
            state.mark_rolled_back(V1, down(V1), {})
        assert state.last_applied() is None

    @postgres_only
    def test_the_first_write_inside_a_rolled_back_transaction_leaves_no_state(
        self, kit: Kit
    ) -> None:
        state = kit.make()
        with contextlib.suppress(ZeroDivisionError), kit.transaction():
            state.record_apply(up(V1), {})
            1 / 0  # noqa: B018
        assert state.exists() is False
        state.record_apply(up(V1), {})  # and a later write still works
        assert state.last_applied().version == V1

    def test_a_newer_format_is_refused(self, kit: Kit) -> None:
        state = kit.make()
        state.ensure()
        kit.set_format_version(kit.format_version + 1)
        newer = f"format version {kit.format_version + 1}, newer than the version"
        with pytest.raises(errors.Refused, match=newer) as caught:
            state.ensure()
        assert "Upgrade Reconciler" in (caught.value.detail or "")
        with pytest.raises(errors.Refused, match=newer):
            state.record_apply(up(V1), {})
        with pytest.raises(errors.Refused, match=newer):
            state.history()
        assert state.exists() is True

    def test_inventory_is_replaced_by_each_apply_and_rollback(self, state: StateBackend) -> None:
        a, b, c = "pg.table.public.a", "pg.table.public.b", 'pg.column.public.b."odd.name"'
        state.record_apply(up(V1), inv(a, b))
        assert state.inventory() == inv(a, b)

        state.record_apply(up(V2), {**inv(a), **inv(b, rev=2), **inv(c)})
        assert state.inventory() == {**inv(a), **inv(b, rev=2), **inv(c)}
        entries = {e.address: e for e in state.inventory_entries()}
        assert {k: (e.kind, e.version) for k, e in entries.items()} == {
            a: ("pg.table", V1),  # unchanged: keeps the apply that last changed it
            b: ("pg.table", V2),
            c: ("pg.column", V2),
        }

        state.record_apply(up(V3), inv(c))
        assert state.inventory() == inv(c)
        assert state.inventory_entries()[0].version == V2

        state.mark_rolled_back(V3, down(V3), {**inv(a), **inv(b, rev=2), **inv(c)})
        entries = {e.address: e for e in state.inventory_entries()}
        assert {k: e.version for k, e in entries.items()} == {a: V3, b: V3, c: V2}

    def test_an_inventory_given_as_a_function_is_worked_out_once(self, state: StateBackend) -> None:
        a, b = "pg.table.public.a", "pg.table.public.b"
        calls: list[str] = []

        def later(*addresses: str) -> Callable[[], dict[str, dict[str, Any]]]:
            def work_out() -> dict[str, dict[str, Any]]:
                calls.append(",".join(addresses))
                return inv(*addresses)

            return work_out

        state.record_apply(up(V1), later(a, b))
        assert calls == [f"{a},{b}"]
        assert state.inventory() == inv(a, b)
        assert state.last_applied().version == V1

        state.mark_rolled_back(V1, down(V1), later(a))
        assert calls == [f"{a},{b}", a]
        assert state.inventory() == inv(a)

        # a record refused before anything is written leaves the state as it was
        state.record_apply(up(V2), later(b))
        with pytest.raises(errors.Refused, match="already applied"):
            state.record_apply(up(V2), later(a))
        assert state.inventory() == inv(b)
        applied = [r.version for r in state.history() if r.status == "applied"]
        assert applied == [V2, V1]  # V2's 'up' and V1's rollback ('down')

    def test_a_failing_inventory_function_records_nothing(
        self, kit: Kit, state: StateBackend
    ) -> None:
        a = "pg.table.public.a"
        state.record_apply(up(V1), inv(a))

        def broken() -> dict[str, dict[str, Any]]:
            raise RuntimeError("inventory failed")

        context = kit.transaction() or contextlib.nullcontext()
        with pytest.raises(RuntimeError, match="inventory failed"), context:
            state.record_apply(up(V2), broken)
        assert state.inventory() == inv(a)
        assert [r.version for r in state.history()] == [V1]

    def test_events_are_appended_newest_first(self, state: StateBackend) -> None:
        state.record_event("apply", V1, {"changes": 3})
        state.record_event("force-unlock", None, {"backend_pid": 1234})
        newest, oldest = state.events()
        assert (newest.kind, newest.version, newest.detail) == (
            "force-unlock",
            None,
            {"backend_pid": 1234},
        )
        assert (oldest.kind, oldest.version, oldest.detail) == ("apply", V1, {"changes": 3})
        assert newest.id > oldest.id and newest.at >= oldest.at
        assert newest.os_pid == os.getpid()
        assert [e.kind for e in state.events(limit=1)] == ["force-unlock"]


# --- what only the Postgres backend promises ---------------------------------------------------


def test_pg_ddl_lock_key_is_derived_as_documented() -> None:
    digest = hashlib.sha256(b"reconciler.state").digest()
    assert int.from_bytes(digest[:8], "big", signed=True) == DDL_LOCK_KEY


def _ensure_at_once(url: str, *, sessions: int) -> list[BaseException]:
    """Run PgState.ensure() from `sessions` connections released together; their errors."""
    conns = [psycopg.connect(url, autocommit=True) for _ in range(sessions)]
    barrier = threading.Barrier(sessions)
    failures: list[BaseException] = []

    def run(conn: psycopg.Connection) -> None:
        try:
            barrier.wait()
            PgState(conn).ensure()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in conns]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for conn in conns:
            conn.close()
    return failures


def test_pg_concurrent_ensure_creates_the_state_once(
    make_pg_database: Callable[[], str],
) -> None:
    for _ in range(3):  # each round on a fresh database, so every round really races
        url = make_pg_database()
        assert _ensure_at_once(url, sessions=4) == []
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute("SELECT name, value FROM reconciler.meta").fetchall()
        assert rows == [("format_version", str(FORMAT_VERSION))]


def test_pg_ensure_survives_a_schema_created_outside_the_lock(pg_url: str) -> None:
    # Someone who does not take our DDL lock (a human in psql) creates the schema while we do:
    # CREATE SCHEMA IF NOT EXISTS then fails with a unique violation, which ensure() retries.
    with (
        psycopg.connect(pg_url, autocommit=True) as human,
        psycopg.connect(pg_url, autocommit=True) as ours,
    ):
        failures: list[BaseException] = []

        def run() -> None:
            try:
                PgState(ours).ensure()
            except BaseException as exc:
                failures.append(exc)

        with human.transaction():
            human.execute("CREATE SCHEMA reconciler")
            thread = threading.Thread(target=run)
            thread.start()
            deadline = time.monotonic() + 10
            while not human.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted",
                (ours.info.backend_pid,),
            ).fetchone()[0]:
                assert time.monotonic() < deadline, "ensure() never waited on the schema"
                time.sleep(0.02)
        thread.join()
        assert failures == []
        assert PgState(human).exists()


def test_pg_failing_an_attempt_on_a_lost_connection_raises_psycopg_errors(
    pg_url: str, pg_conn: psycopg.Connection
) -> None:
    # Callers suppress psycopg.Error there (the row will read 'interrupted'); nothing else may
    # escape and hide the error that lost the connection.
    with psycopg.connect(pg_url, autocommit=True) as conn:
        state = PgState(conn)
        attempt = state.begin_attempt(V1)
        pg_conn.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        with pytest.raises(psycopg.OperationalError):  # the apply notices the loss first
            conn.execute("SELECT 1")
        assert conn.broken
        with pytest.raises(psycopg.OperationalError):
            state.finish_attempt(attempt, "failed", error="lost")
    deadline = time.monotonic() + 10
    while PgState(pg_conn).attempts()[0].status == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert PgState(pg_conn).attempts()[0].status == "interrupted"


def test_pg_reads_leave_a_non_autocommit_connection_idle(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        state = PgState(conn)
        state.ensure()
        state.history()
        state.attempts()
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        attempt = state.begin_attempt(V1)
        state.finish_attempt(attempt, "failed", error="boom")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with psycopg.connect(pg_url, autocommit=True) as other:
        assert PgState(other).attempts()[0].status == "failed"  # it was committed


@pytest.fixture
def kit_pg(pg_url: str, pg_conn: psycopg.Connection) -> Iterator[PgKit]:
    yield PgKit(pg_url, pg_conn)


def test_pg_killed_attempt_rolled_back_its_transaction(kit_pg: PgKit) -> None:
    child = kit_pg.spawn_attempt(V1)
    assert child.stdout is not None
    child.stdout.readline()
    child.kill()
    child.wait()
    deadline = time.monotonic() + 10
    while PgState(kit_pg.conn).attempts()[0].status == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    found = kit_pg.conn.execute("SELECT to_regclass('public.half_done')").fetchone()
    assert found == (None,)


def test_pg_state_tables_stay_in_their_schema(pg_conn: psycopg.Connection) -> None:
    PgState(pg_conn).ensure()
    rows = pg_conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'reconciler' AND c.relkind = 'r' ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == ["applies", "attempts", "events", "inventory", "meta"]
    public = pg_conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public'"
    ).fetchone()
    assert public == (0,)


# --- what only the file backend promises -------------------------------------------------------


def test_file_reads_create_nothing(tmp_path: Path) -> None:
    root = tmp_path / "state"
    state = FileState(root)
    assert (state.history(), state.attempts(), state.events(), state.inventory()) == ([],) * 3 + (
        {},
    )
    assert not root.exists()


def test_file_layout_is_as_documented(tmp_path: Path) -> None:
    root = tmp_path / "state"
    state = FileState(root)
    attempt = state.begin_attempt(V1)
    state.record_apply(up(V1), inv("redis.keys.app"))
    state.finish_attempt(attempt, "succeeded")
    state.mark_rolled_back(V1, down(V1), {})
    state.record_event("apply", V1, {"changes": 1})
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == [
        ".lock",
        "applies/000000000001-20261125120100-up.json",
        "applies/000000000002-20261125120100-down.json",
        "attempts/000000000001.json",
        "events/000000000001.json",
        "inventory.json",
        "meta.json",
    ]  # and no temporary files or journal left behind
    assert json.loads((root / "meta.json").read_text()) == {"format_version": 1}
    doc = json.loads((root / "applies/000000000001-20261125120100-up.json").read_text())
    assert (doc["status"], doc["started_at"]) == ("rolled_back", "2026-11-25T12:01:00+00:00")


_FILE_WRITER = """
import sys
from pathlib import Path
from reconciler.state.file import FileState
state = FileState(Path(sys.argv[1]))
for n in range(int(sys.argv[2])):
    state.record_event("note", None, {"writer": sys.argv[3], "n": n})
"""


def test_file_concurrent_writers_are_serialized(tmp_path: Path) -> None:
    root, writers, each = tmp_path / "state", 4, 25
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _FILE_WRITER, str(root), str(each), str(w)], env=env
        )
        for w in range(writers)
    ]
    assert [c.wait(timeout=120) for c in children] == [0] * writers
    events = FileState(root).events()
    assert sorted(e.id for e in events) == list(range(1, writers * each + 1))
    seen = {(e.detail["writer"], e.detail["n"]) for e in events}
    assert seen == {(str(w), n) for w in range(writers) for n in range(each)}


def test_file_a_change_cut_short_is_finished_by_the_next_operation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "state"
    state = FileState(root)
    state.record_apply(up(V1), inv("redis.keys.a"))
    real_write = FileState._write

    def crash_on_inventory(self: FileState, path: Path, value: Any) -> None:
        if path.name == "inventory.json":
            raise KeyboardInterrupt  # the process dies after the apply document, before this
        real_write(self, path, value)

    monkeypatch.setattr(FileState, "_write", crash_on_inventory)
    with pytest.raises(KeyboardInterrupt):
        state.record_apply(up(V2), inv("redis.keys.a", "redis.keys.b"))
    monkeypatch.undo()
    assert (root / ".journal.json").exists()

    reader = FileState(root)  # a reader finishes the change before it reads
    assert [r.version for r in reader.history()] == [V2, V1]
    assert set(reader.inventory()) == {"redis.keys.a", "redis.keys.b"}
    assert not (root / ".journal.json").exists()


def test_file_attempts_of_gone_processes_read_interrupted(tmp_path: Path) -> None:
    root = tmp_path / "state"
    state = FileState(root)
    ours = state.begin_attempt(V1)
    elsewhere = state.begin_attempt(V2)
    reused = state.begin_attempt(V3)

    def edit(attempt_id: int, **changes: Any) -> None:
        path = root / "attempts" / f"{attempt_id:012d}.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))

    edit(elsewhere, host="another-machine", os_pid=1)  # cannot tell: stays running
    edit(reused, proc_start=1)  # our pid, but a process that started at another time
    assert {a.id: a.status for a in state.attempts()} == {
        ours: "running",
        elsewhere: "running",
        reused: "interrupted",
    }
    edit(ours, boot_id="an-earlier-boot")
    assert state.attempts()[-1].status == "interrupted"


def test_file_db_user_defaults_to_the_os_user(tmp_path: Path) -> None:
    plain, named = FileState(tmp_path / "a"), FileState(tmp_path / "b", db_user="app-deployer")
    for state in (plain, named):
        state.record_apply(up(V1, db_user=None), {})
        state.record_event("apply", V1)
        state.begin_attempt(V2)
    assert plain.get(V1).db_user == plain.events()[0].db_user == Actor.current().user
    assert named.get(V1).db_user == named.attempts()[0].db_user == "app-deployer"
    assert named.get(V1).os_user == Actor.current().user
    named.record_apply(up(V2, db_user="given"), {})
    assert named.get(V2).db_user == "given"


def test_file_a_damaged_document_is_reported_in_a_sentence(tmp_path: Path) -> None:
    root = tmp_path / "state"
    state = FileState(root)
    state.record_event("apply", V1)
    (root / "events" / "000000000001.json").write_text("{not json")
    with pytest.raises(
        errors.ReconcilerError, match=r"events/000000000001\.json is not valid JSON"
    ):
        state.events()
