"""Fixtures that run the suite against real PostgreSQL and Redis servers (no mocks, no fakes).

One PostgreSQL cluster and one Redis instance per test session, started by reconciler.dev on free
127.0.0.1 ports. Isolation is per test: a fresh database (`pg_url`, `pg_conn`, `make_pg_database`)
and a unique Redis key prefix (`redis_prefix`, `redis_client`); tests that need a whole Redis of
their own (config, ACL users, "every key" scopes) take `private_redis`.

Missing server binaries fail the session with a pointer to `make setup`; nothing is skipped.
The servers start when the first test that needs one runs, never for a run without such a test
(`make test-fast`: `-m "not servers"`, the markers of tests/markers.py).
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
import redis
from psycopg import sql

from reconciler import dev
from reconciler.errors import ReconcilerError

_T = TypeVar("_T")

pytest_plugins = ["tests.redis_cluster_fixture", "tests.markers"]

# The tool's own schemas: state and quarantined drops. Never part of a schema comparison.
TOOL_SCHEMAS = ("reconciler", "reconciler_trash")
TEST_DB_PREFIX = "t_"

_SETUP_HINT = "Run `make setup` to install PostgreSQL and Redis, then run the tests again."


def _or_fail(start: Callable[[], _T]) -> _T:
    """Turn a server that cannot be found or started into one readable failure, not a skip."""
    try:
        return start()
    except ReconcilerError as exc:
        detail = f"\n{exc.detail}" if exc.detail else ""
        pytest.fail(f"{exc.summary} {_SETUP_HINT}{detail}", pytrace=False)


# ------------------------------------------------------------------------------------- servers


def _server_parent_dir() -> str:
    """Where test server data goes: RECONCILER_TEST_TMPDIR, else RAM (/dev/shm), else $TMPDIR.

    Every test creates a database by copying template0 (7 MB); on a busy virtual disk that copy
    alone took ~250 ms, on tmpfs ~15 ms. The data is throwaway, so RAM is the right place.
    """
    if chosen := os.environ.get("RECONCILER_TEST_TMPDIR"):
        return chosen
    shm = "/dev/shm"
    try:
        stats = os.statvfs(shm)
        if os.access(shm, os.W_OK | os.X_OK) and stats.f_bavail * stats.f_frsize >= 1 << 30:
            return shm
    except OSError:
        pass
    return tempfile.gettempdir()


@pytest.fixture(scope="session", autouse=True)
def desired_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One desired-state cache for the session, outside the checkout. Every test that loads a
    tree another test (or an earlier step) loaded too reads it back from this cache, so the
    whole suite also checks that a cached load behaves exactly like a fresh one."""
    path = tmp_path_factory.mktemp("desired-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECONCILER_CACHE_DIR", str(path))
        mp.delenv("RECONCILER_NO_CACHE", raising=False)
        yield path


@pytest.fixture(scope="session")
def server_dir() -> Iterator[Path]:
    """A session directory for server data, enterable by the OS user PostgreSQL runs as.

    Not tmp_path_factory: pytest keeps its basetemp at mode 0700, and when the suite runs as root
    PostgreSQL runs as another user who must be able to reach its data directory.
    """
    path = Path(tempfile.mkdtemp(prefix="reconciler-test-", dir=_server_parent_dir()))
    path.chmod(0o711)  # pass-through for the server user, no listing
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(server_dir: Path) -> Iterator[dev.PgServer]:
    server = _or_fail(lambda: dev.start_postgres(server_dir / "pg"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(server_dir: Path) -> Iterator[dev.RedisServer]:
    server = _or_fail(lambda: dev.start_redis(server_dir / "redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_redis(server_dir: Path) -> Iterator[dev.RedisServer]:
    """A Redis instance for this test alone (about 20 ms to start), stopped afterwards."""
    server = _or_fail(lambda: dev.start_redis(server_dir / f"redis-{uuid.uuid4().hex[:12]}"))
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)


# ------------------------------------------------------------------------------------ postgres


def _admin(server: dev.PgServer) -> psycopg.Connection:
    return psycopg.connect(server.url("postgres"), autocommit=True)


def _database_name(test_name: str) -> str:
    # Named after the test so a leftover or a server log line points at its origin;
    # identifiers are limited to 63 bytes.
    slug = re.sub(r"[^a-z0-9]+", "_", test_name.lower()).strip("_")[:36]
    return f"{TEST_DB_PREFIX}{slug}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_pg_database(
    pg_server: dev.PgServer, request: pytest.FixtureRequest
) -> Iterator[Callable[[], str]]:
    """Factory: each call creates a fresh, empty database and returns its URL; all are dropped."""
    created: list[str] = []

    def make() -> str:
        name = _database_name(request.node.name)
        with _admin(pg_server) as conn:
            # FILE_COPY (PostgreSQL 15+) copies template0's files directly: a few times faster than
            # the default WAL_LOG strategy, and the checkpoint it forces is cheap with fsync off.
            modern = conn.info.server_version >= 150000
            strategy = sql.SQL(" STRATEGY FILE_COPY" if modern else "")
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0{}").format(
                    sql.Identifier(name), strategy
                )
            )
        created.append(name)
        return pg_server.url(name)

    yield make
    if created:
        with _admin(pg_server) as conn:
            for name in reversed(created):
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture
def pg_url(make_pg_database: Callable[[], str]) -> str:
    """URL of a fresh, empty database of this test's own."""
    return make_pg_database()


@pytest.fixture
def pg_conn(pg_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the test's fresh database."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn


def pg_dump_binary() -> str:
    """pg_dump from the server's own bin directory when present, so its version matches."""
    try:
        candidate = dev.find_pg_bindir() / "pg_dump"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    except ReconcilerError:
        pass
    if found := shutil.which("pg_dump"):
        return found
    pytest.fail(f"pg_dump was not found. {_SETUP_HINT}", pytrace=False)


# Lines that differ between dumps of equal schemas or carry no schema: comments, session
# settings, and the \restrict / \unrestrict guards (random keys) that newer pg_dump versions emit.
_DUMP_NOISE = re.compile(r"--|SET |SELECT pg_catalog\.set_config\(|\\(un)?restrict\b")


def normalize_dump(text: str) -> str:
    lines: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()
        if _DUMP_NOISE.match(line):
            continue
        if not line and (not lines or not lines[-1]):
            continue  # collapse blank runs; no leading blank line
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def pg_dump_schema() -> Callable[[str], str]:
    """`dump(url) -> str`: the schema-only dump of a database, normalized for comparison.

    Owners, privileges and the tool's own schemas are left out, so two databases with equal
    schemas give equal strings.
    """
    binary = pg_dump_binary()
    excludes = [f"--exclude-schema={schema}" for schema in TOOL_SCHEMAS]

    def dump(url: str) -> str:
        argv = [binary, "--schema-only", "--no-owner", "--no-privileges", *excludes]
        result = subprocess.run(
            [*argv, f"--dbname={url}"], capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            pytest.fail(f"pg_dump failed for {url}: {result.stderr.strip()}", pytrace=False)
        return normalize_dump(result.stdout)

    return dump


# --------------------------------------------------------------------------------------- redis


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Modules that set `ON_REDIS_CLUSTER = True` run each test taking `redis_url` twice: on the
    session's single Redis and on its Redis Cluster (the same assertions must hold on both)."""
    names = metafunc.fixturenames
    wants_redis = "redis_url" in names or "whole_redis" in names
    if wants_redis and getattr(metafunc.module, "ON_REDIS_CLUSTER", False):
        metafunc.parametrize("redis_topology", ["single", "cluster"], indirect=True)


@pytest.fixture
def redis_topology(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "single")


@pytest.fixture
def redis_url(redis_topology: str, request: pytest.FixtureRequest) -> str:
    """The session Redis (db 0), or the session Redis Cluster's seed URL, shared by all tests:
    keep to your `redis_prefix`."""
    if redis_topology == "cluster":
        return request.getfixturevalue("redis_cluster").url
    return request.getfixturevalue("redis_server").url()


@dataclass(frozen=True)
class _ClusterHandle:
    seed: str

    def url(self) -> str:
        return self.seed


@pytest.fixture
def whole_redis(redis_topology: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A whole keyspace for this test (anything with `.url()`): a Redis of its own, or the
    session Redis Cluster emptied before and after the test (tests run one at a time)."""
    if redis_topology != "cluster":
        yield request.getfixturevalue("private_redis")
        return
    cluster = request.getfixturevalue("redis_cluster")
    cluster.flushall()
    yield _ClusterHandle(cluster.url)
    cluster.flushall()


def redis_from_url(url: str, **options: Any) -> Any:
    """A redis-py client for `url`: a RedisCluster when the server is a cluster node."""
    with redis.Redis.from_url(url) as probe:
        clustered = str(probe.info("cluster").get("cluster_enabled", 0)) == "1"
    factory = redis.RedisCluster if clustered else redis.Redis
    return factory.from_url(url, **options)


def _delete_prefixed(client: redis.Redis, prefix: str) -> None:
    # SCAN, not KEYS: never block the server, whatever else the session left in it. One key per
    # UNLINK on a cluster (keys of one call must share a slot there).
    pipe = client.pipeline(transaction=False)
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        pipe.unlink(key)
        if len(pipe) >= 500:
            pipe.execute()
    if len(pipe):
        pipe.execute()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix unique to this test, e.g. `t3f9a0c1d2b4e:`; its keys are deleted afterwards,
    whoever wrote them (the test, its client, or the code under test)."""
    prefix = f"t{uuid.uuid4().hex[:12]}:"
    yield prefix
    with redis_from_url(redis_url) as client:
        _delete_prefixed(client, prefix)


@pytest.fixture
def redis_client(redis_url: str, redis_prefix: str) -> Iterator[redis.Redis]:
    """A decode_responses client on the session Redis; pair it with `redis_prefix` (requested
    here, so its keys are cleaned up even if the test only writes through this client)."""
    with redis_from_url(redis_url, decode_responses=True) as client:
        yield client


# ---------------------------------------------------------------------- parallel runs (-n N)
#
# `make test` runs the suite on pytest-xdist workers (`-n auto --dist loadgroup`). Each worker is
# a test session of its own: its own PostgreSQL cluster, Redis and Redis Cluster (free ports,
# their own directories), its own databases and key prefixes. What a session gathers for the
# end of the run (the corpus report, the reliability outcomes) travels from each worker to the
# controller, which prints or writes it once for the whole run.


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


_WIDER_SCOPES = ("module", "class", "package")


@functools.cache
def _declares_wider_fixture(path: Path) -> bool:
    """Whether a test module defines a fixture of module, class or package scope."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return False
    return any(
        isinstance(node, ast.Call)
        and any(
            kw.arg == "scope" and getattr(kw.value, "value", None) in _WIDER_SCOPES
            for kw in node.keywords
        )
        for node in ast.walk(tree)
    )


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: the controller's scheduler
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup`: each test is a unit of work of its own (the corpus and the round
    trips spread over every worker), except that the tests of a module defining a module- or
    class-scoped fixture (a PostgreSQL cluster of the module's own, one bench run) go to one
    worker together, so that fixture is set up once per run, not once per worker. (xdist's own
    loadgroup would need `xdist_group` marks, and reads them from a suffix it adds to the node
    id, which pytest 9.2 no longer takes: its groups are silently ignored there.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    root = config.rootpath

    class ModuleFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if _declares_wider_fixture(root / module) else nodeid

    return ModuleFixtureScheduling(config, log)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A worker hands its corpus report to the controller; the controller writes the
    reliability outcomes that its workers handed in (tests/reliability/conftest.py)."""
    config = session.config
    if _is_worker(config):
        if _CORPUS_REPORT:
            output: dict[str, Any] = config.workeroutput  # type: ignore[attr-defined]
            output[_CORPUS_OUTPUT_KEY] = json.dumps(_CORPUS_REPORT)
    elif _RELIABILITY_OUTCOMES:
        from tests.reliability.conftest import save  # deferred: only when outcomes came in

        save(_RELIABILITY_OUTCOMES)


_RELIABILITY_OUTCOMES: dict[str, dict[str, Any]] = {}


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: called in the controller only
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Gather what a finished worker handed in."""
    output = getattr(node, "workeroutput", None) or {}
    if report := output.get(_CORPUS_OUTPUT_KEY):
        _CORPUS_REPORT.update(json.loads(report))
    from tests.reliability.conftest import (  # deferred: tests/reliability's own conftest
        WORKER_OUTPUT_KEY,
        add_up,
    )

    if scenarios := output.get(WORKER_OUTPUT_KEY):
        add_up(_RELIABILITY_OUTCOMES, json.loads(scenarios))


# ------------------------------------------------------------------------------ corpus report

_CORPUS_REPORT: dict[str, dict[str, str]] = {}
_CORPUS_OUTPUT_KEY = "corpus_report"


@pytest.fixture(scope="session")
def corpus_report() -> dict[str, dict[str, str]]:
    """Per corpus case, each step's outcome (tests/kinds/test_corpus.py); printed at the end of
    the run."""
    return _CORPUS_REPORT


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _CORPUS_REPORT or _is_worker(terminalreporter.config):
        return  # a worker's share is printed by the controller, with every other worker's
    if out := os.environ.get("CORPUS_REPORT_JSON"):  # every step and first failure, to read
        Path(out).write_text(json.dumps(_CORPUS_REPORT, indent=1, sort_keys=True))
    from tests.kinds.test_corpus import STEPS  # deferred: a test module, only once it ran

    tr = terminalreporter
    tr.section("schema-pair corpus")
    width = max(len(name) for name in _CORPUS_REPORT)
    tr.write_line(f"{'case':<{width}}  " + "  ".join(f"{s:<8}" for s in STEPS))
    passed = 0
    for name, row in sorted(_CORPUS_REPORT.items()):
        cells = "  ".join(f"{row.get(step, '-'):<8}" for step in STEPS)
        note = f"  ({row['note']})" if "note" in row else ""
        tr.write_line(f"{name:<{width}}  {cells}{note}")
        passed += all(row.get(step) == "pass" for step in STEPS)
    excluded = sum(row.get("note", "").startswith("excluded:") for row in _CORPUS_REPORT.values())
    tr.write_line(
        f"{passed} of {len(_CORPUS_REPORT) - excluded} cases pass every step"
        + (f" ({excluded} excluded: they do not load on this server)." if excluded else ".")
    )
    _category_table(tr, STEPS)


def _category_table(tr: Any, steps: tuple[str, ...]) -> None:
    """Per category (a peer case's `<category>__`, a history's `<app>:`): cases, passes,
    exclusions and the step where the others first fail."""
    table: dict[str, dict[str, int]] = {}
    for name, row in _CORPUS_REPORT.items():
        category = name.split("__")[0] if "__" in name else name.partition(":")[0] * (":" in name)
        category = category or "tests/corpus"
        counts = table.setdefault(category, {"cases": 0, "pass": 0, "excluded": 0})
        counts["cases"] += 1
        if row.get("note", "").startswith("excluded:"):
            counts["excluded"] += 1
        elif all(row.get(step) == "pass" for step in steps):
            counts["pass"] += 1
        else:
            first = next((s for s in steps if row.get(s) != "pass"), steps[-1])
            counts[first] = counts.get(first, 0) + 1
    if len(table) < 2:
        return
    width = max(len(c) for c in table)
    cols = ("cases", "pass", "excluded", *steps)
    tr.write_line("")
    tr.write_line(f"{'category':<{width}}  " + "  ".join(f"{c:>8}" for c in cols))
    for category, counts in sorted(table.items()):
        cells = "  ".join(f"{counts.get(c, 0) or '':>8}" for c in cols)
        tr.write_line(f"{category:<{width}}  {cells}")
