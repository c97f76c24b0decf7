"""reconciler.dev and the server fixtures, against real PostgreSQL and Redis processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from reconciler import dev
from reconciler.dev import launch, postgres
from reconciler.errors import ReconcilerError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def scratch(server_dir: Path) -> Iterator[Path]:
    """A directory the PostgreSQL OS user can enter (pytest's tmp_path is 0700 under root)."""
    path = server_dir / f"scratch-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    yield path
    # Whatever a failed test left running must not outlive it.
    if (pg := dev.PgServer.from_datadir(path / "pg")) is not None:
        pg.stop()
    for pidfile in path.rglob("redis.pid"):
        pid = int(pidfile.read_text())
        dev.RedisServer(dir=pidfile.parent, port=0, pid=pid).stop()


def _refuses_connections(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _in_other_process(code: str) -> None:
    """Run `code` in a fresh interpreter, as `reconciler dev down` would from another shell."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------- lookups


def test_free_port_is_bindable_on_loopback() -> None:
    port = dev.free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_find_pg_bindir_holds_the_server_tools() -> None:
    bindir = dev.find_pg_bindir()
    for tool in ("initdb", "pg_ctl", "postgres"):
        assert os.access(bindir / tool, os.X_OK), tool


def test_find_pg_bindir_without_binaries_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("RECONCILER_PG_BINDIR", raising=False)
    monkeypatch.setattr(postgres, "_PG_LIB_ROOTS", (tmp_path / "nowhere",))
    with pytest.raises(ReconcilerError) as info:
        dev.find_pg_bindir()
    assert "make setup" in (info.value.detail or "")


# ------------------------------------------------------------------------------- postgres


def test_start_postgres_answers_on_loopback_and_stops(scratch: Path) -> None:
    server = dev.start_postgres(scratch / "pg")
    try:
        assert server.is_running()
        assert server.url("app") == f"postgresql://postgres@127.0.0.1:{server.port}/app"
        with psycopg.connect(server.url(), autocommit=True) as conn:
            row = conn.execute(
                "SELECT current_user, current_setting('listen_addresses')"
            ).fetchone()
            assert row == ("postgres", "127.0.0.1")
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
            encoding = conn.execute("SHOW server_encoding").fetchone()
            assert encoding == ("UTF8",)
        if os.geteuid() == 0:
            assert server.user != "root"
            assert (scratch / "pg").stat().st_uid != 0
    finally:
        server.stop()
    assert not server.is_running()
    assert _refuses_connections(server.port)
    server.stop()  # stopping a stopped server is a no-op


def test_start_postgres_moves_to_another_port_when_one_is_taken(
    scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]

        # An explicit port is a promise: no silent move, and the log says why.
        with pytest.raises(ReconcilerError) as info:
            dev.start_postgres(scratch / "pg", port=taken)
        assert str(taken) in info.value.summary
        assert "already in use" in (info.value.detail or "")

        # A port picked by us may be lost to a race: the next attempt uses another one.
        ports = iter([taken])
        real_free_port = dev.free_port
        monkeypatch.setattr(launch, "free_port", lambda: next(ports, None) or real_free_port())
        server = dev.start_postgres(scratch / "pg")
    try:
        assert server.port != taken
        with psycopg.connect(server.url(), autocommit=True) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        server.stop()


def test_start_postgres_refuses_a_second_start_of_a_running_cluster(
    pg_server: dev.PgServer,
) -> None:
    with pytest.raises(ReconcilerError, match="already running"):
        dev.start_postgres(pg_server.datadir)
    assert pg_server.is_running()


# ---------------------------------------------------------------------------------- redis


def test_start_redis_answers_and_stops_from_another_process(scratch: Path) -> None:
    server = dev.start_redis(scratch / "redis")
    try:
        assert server.url(3) == f"redis://127.0.0.1:{server.port}/3"
        with redis.Redis.from_url(server.url(), decode_responses=True) as client:
            assert client.ping()
            assert client.info("server")["process_id"] == server.pid
            assert client.config_get("save") == {"save": ""}
            assert client.config_get("appendonly") == {"appendonly": "no"}
            assert client.config_get("bind") == {"bind": "127.0.0.1"}
    finally:
        _in_other_process(
            "from pathlib import Path; from reconciler.dev import RedisServer; "
            f"RedisServer(dir=Path({str(server.dir)!r}), port={server.port}, "
            f"pid={server.pid}).stop()"
        )
    assert not server.is_running()
    assert _refuses_connections(server.port)


def test_start_redis_moves_to_another_port_when_one_is_taken(
    scratch: Path, monkeypatch: pytest.MonkeyPatch, redis_server: dev.RedisServer
) -> None:
    # The session's Redis holds a port: a start that raced onto it must not mistake it for ours.
    ports = iter([redis_server.port])
    real_free_port = dev.free_port
    monkeypatch.setattr(launch, "free_port", lambda: next(ports, None) or real_free_port())
    server = dev.start_redis(scratch / "redis")
    try:
        assert server.port != redis_server.port
        assert server.pid != redis_server.pid
        assert redis.Redis(port=server.port).ping()
    finally:
        server.stop()
    assert redis_server.is_running()


# ------------------------------------------------------------------------------ dev up/down


def test_dev_up_is_idempotent_and_dev_down_removes_everything(scratch: Path) -> None:
    root = scratch / "project"
    root.mkdir()
    assert dev.dev_status(root).pg_url is None

    first = dev.dev_up(root)
    try:
        assert first.running and first.pg_running and first.redis_running
        again = dev.dev_up(root)
        assert (again.pg_url, again.redis_url) == (first.pg_url, first.redis_url)

        status = dev.dev_status(root)
        assert (status.pg_url, status.redis_url) == (first.pg_url, first.redis_url)
        assert status.to_dict()["running"] is True

        state = json.loads((root / ".reconciler" / "dev" / "state.json").read_text())
        assert state["postgres"]["url"] == first.pg_url
        assert state["redis"]["url"] == first.redis_url
        assert isinstance(state["postgres"]["pid"], int)
        assert isinstance(state["redis"]["pid"], int)

        assert first.pg_url is not None and first.redis_url is not None
        with psycopg.connect(first.pg_url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert redis.Redis.from_url(first.redis_url).ping()
    finally:
        # From another process, as `reconciler dev down` runs.
        _in_other_process(
            f"from pathlib import Path; from reconciler.dev import dev_down; "
            f"assert not dev_down(Path({str(root)!r})).running"
        )

    assert not (root / ".reconciler" / "dev").exists()
    after = dev.dev_status(root)
    assert (after.pg_url, after.redis_url, after.running) == (None, None, False)
    assert _refuses_connections(state["postgres"]["port"])
    assert _refuses_connections(state["redis"]["port"])
    assert dev.dev_down(root).running is False  # nothing left to stop


def test_dev_up_restarts_a_dead_server_and_keeps_the_live_one(scratch: Path) -> None:
    root = scratch / "project"
    first = dev.dev_up(root)
    try:
        state = json.loads((root / ".reconciler" / "dev" / "state.json").read_text())
        dev.RedisServer(
            Path(state["redis"]["dir"]), state["redis"]["port"], state["redis"]["pid"]
        ).stop()
        assert dev.dev_status(root).redis_url is None
        assert dev.dev_status(root).pg_url == first.pg_url

        second = dev.dev_up(root)
        assert second.running
        assert second.pg_url == first.pg_url
        assert second.redis_url is not None
        assert redis.Redis.from_url(second.redis_url).ping()
    finally:
        dev.dev_down(root)


# ---------------------------------------------------------------------------------- fixtures


def _leftover_test_databases(conn: psycopg.Connection, own: str) -> list[str]:
    rows = conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
        ["t\\_%", own],
    ).fetchall()
    return [name for (name,) in rows]


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_its_own_empty_database(
    pg_conn: psycopg.Connection, pg_server: dev.PgServer, round_: int
) -> None:
    # Run twice: a database shared between tests would already hold the table in round 2.
    found = pg_conn.execute("SELECT to_regclass('public.isolation_probe')").fetchone()
    assert found == (None,)
    pg_conn.execute("CREATE TABLE isolation_probe (id int PRIMARY KEY)")
    own = pg_conn.info.dbname
    assert own.startswith("t_test_each_test_gets_its_own")
    with psycopg.connect(pg_server.url(), autocommit=True) as admin:
        # Databases of earlier tests are dropped by their teardown.
        assert _leftover_test_databases(admin, own) == []


def test_make_pg_database_gives_distinct_databases(
    make_pg_database: Callable[[], str], pg_url: str
) -> None:
    source, target = make_pg_database(), make_pg_database()
    assert len({source, target, pg_url}) == 3
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("CREATE TABLE only_in_source (id int)")
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT to_regclass('only_in_source')").fetchone() == (None,)


def test_pg_dump_schema_compares_schemas_and_ignores_tool_state(
    make_pg_database: Callable[[], str], pg_dump_schema: Callable[[str], str]
) -> None:
    ddl = "CREATE TABLE runs (id uuid PRIMARY KEY, name text NOT NULL DEFAULT 'x')"
    left, right = make_pg_database(), make_pg_database()
    for url in (left, right):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(ddl)
    with psycopg.connect(right, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA reconciler; CREATE TABLE reconciler.state (v int)")
        conn.execute("CREATE SCHEMA reconciler_trash")

    left_dump = pg_dump_schema(left)
    assert left_dump == pg_dump_schema(right)
    assert "CREATE TABLE public.runs" in left_dump
    assert not any(line.startswith(("--", "SET ", "\\")) for line in left_dump.splitlines())
    assert "\n\n\n" not in left_dump

    with psycopg.connect(right, autocommit=True) as conn:
        conn.execute("CREATE INDEX idx_runs_name ON runs (name)")
    assert pg_dump_schema(left) != pg_dump_schema(right)


def _prefixed_keys_of_other_tests(client: redis.Redis, own: str) -> list[str]:
    pattern = "t" + "[0-9a-f]" * 12 + ":*"
    return [key for key in client.scan_iter(match=pattern) if not key.startswith(own)]


@pytest.mark.parametrize("round_", [1, 2])
def test_redis_prefix_is_unique_and_cleaned_up(
    redis_client: redis.Redis, redis_prefix: str, round_: int
) -> None:
    # Round 2 would see round 1's keys if teardown did not delete them.
    assert _prefixed_keys_of_other_tests(redis_client, redis_prefix) == []
    for i in range(1200):  # more than one SCAN/UNLINK batch
        redis_client.set(f"{redis_prefix}probe:{i}", i)
    assert redis_client.get(f"{redis_prefix}probe:7") == "7"


def test_private_redis_is_separate_from_the_session_one(
    private_redis: dev.RedisServer, redis_server: dev.RedisServer, redis_prefix: str
) -> None:
    assert private_redis.port != redis_server.port
    with redis.Redis.from_url(private_redis.url(), decode_responses=True) as client:
        client.config_set("maxmemory-policy", "allkeys-lru")
        client.set(f"{redis_prefix}k", "v")
    with redis.Redis.from_url(redis_server.url(), decode_responses=True) as shared:
        assert shared.get(f"{redis_prefix}k") is None
        assert shared.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another OS user")
@pytest.mark.servers  # dev_up starts servers of its own
def test_dev_up_works_in_a_project_the_server_user_cannot_enter(tmp_path: Path) -> None:
    """As root, in a 0700 directory (mktemp -d, /root): the cluster lives in a directory of its
    own that the server's user can reach, the project points to it, and down removes it."""
    tmp_path.chmod(0o700)
    root = tmp_path / "project"
    root.mkdir()
    status = dev.dev_up(root)
    where = root / ".reconciler" / "dev" / "pg.where"
    try:
        assert status.running, status
        datadir = Path(where.read_text().strip())
        assert (datadir / "PG_VERSION").exists() and not datadir.is_relative_to(root)
        with psycopg.connect(status.pg_url, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert dev.dev_up(root).pg_url == status.pg_url  # found again through the pointer
    finally:
        dev.dev_down(root)
    assert not datadir.parent.exists() and not (root / ".reconciler" / "dev").exists()
