"""Fleets: one schema over 20 databases on two PostgreSQL clusters — plan, apply, drift with
bounded concurrency, one lock per database, a rollout that stops at the first failure (or goes
on when told), a canary, per-target results and the aggregate (table, JSON, metrics)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from reconciler import dev
from reconciler.api import fleet
from reconciler.locks.pg import LOCK_KEY
from tests.cli.test_json_schemas import errors
from tests.conftest import _or_fail
from tests.helpers import run_cli, write_yaml

FLEET_SIZE = 20
USERS = """\
table: users
columns:
  - {name: id, type: bigint}
  - {name: email, type: text, nullable: false}
primary_key: [id]
indexes:
  - {columns: [email], unique: true}
"""


@pytest.fixture(scope="module")
def second_pg(server_dir: Path) -> Iterator[dev.PgServer]:
    """A second cluster, so a fleet spans two servers as shards and regions do."""
    server = _or_fail(lambda: dev.start_postgres(server_dir / "pg-fleet-b"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fleet_urls(pg_server: dev.PgServer, second_pg: dev.PgServer) -> Iterator[list[str]]:
    """FLEET_SIZE fresh databases, alternating between the two clusters; dropped afterwards."""
    made: list[tuple[dev.PgServer, str]] = []
    tag = uuid.uuid4().hex[:8]
    for i in range(FLEET_SIZE):
        server = (pg_server, second_pg)[i % 2]
        name = f"t_fleet_{tag}_{i:02d}"
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
            )
        made.append((server, name))
    yield [server.url(name) for server, name in made]
    for server, name in made:
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def project(tmp_path: Path, fleet_urls: list[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("RECONCILER_PG_URL", "DATABASE_URL", "RECONCILER_REDIS_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("RECONCILER_ENV", raising=False)
    entries = "\n".join(
        f"      - {{name: db{i:02d}, url: '{u}'}}" for i, u in enumerate(fleet_urls)
    )
    config = (
        f"version: 1\ndefault_environment: shards\nenvironments:\n  shards:\n    pg:\n{entries}\n"
    )
    (tmp_path / "reconciler.yaml").write_text(config)
    write_yaml(tmp_path / "schemas", "tables/users.yaml", USERS)
    return tmp_path


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        ).fetchall()
    return {r[0] for r in rows}


def _sabotage(url: str) -> None:
    """A users table whose rows break the unique index the plan adds: its apply fails."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)")
        conn.execute("INSERT INTO users VALUES (1, 'same@example.com'), (2, 'same@example.com')")


def _report(r) -> dict:
    doc = json.loads(r.out)
    assert errors("fleet.v1.schema.json", doc) == []
    return doc


def _by_name(doc: dict) -> dict[str, dict]:
    return {t["name"]: t for t in doc["targets"]}


def test_plan_apply_drift_over_twenty_databases_on_two_clusters(project, fleet_urls):
    r = run_cli("plan", "--parallel", "6", "--detailed-exitcode", cwd=project)
    assert r.code == 2, r.text
    assert "20 changes" in r.out and r.err.count("changes") == FLEET_SIZE, r.text
    # The twenty identical plans are shown once, under the databases they are for.
    assert r.out.count("Reconciler will perform the following actions") == 1, r.out
    assert "20 databases: db00, db01" in r.out and "and 12 more" in r.out, r.out
    assert len(list((project / "plans").glob("db*/*.plan.json"))) == FLEET_SIZE
    r = run_cli("apply", "--auto-approve", "--parallel", "6", "--json", cwd=project)
    assert r.code == 0, r.text
    doc = _report(r)
    assert doc["summary"] == {"targets": FLEET_SIZE, "applied": FLEET_SIZE}, doc["summary"]
    for url in fleet_urls:
        assert _tables(url) == {"users"}
    for url in fleet_urls:  # no password or URL secrets in the report; each has its own state
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM reconciler.applies").fetchone()[0] == 1
    r = run_cli("drift", "--json", "--metrics-file", str(project / "m.prom"), cwd=project)
    assert r.code == 0, r.text
    assert _report(r)["summary"] == {"targets": FLEET_SIZE, "ok": FLEET_SIZE}
    with psycopg.connect(fleet_urls[3], autocommit=True) as conn:  # out of band, on one
        conn.execute("ALTER TABLE users ADD COLUMN nickname text")
    r = run_cli("drift", "--metrics-file", str(project / "m.prom"), cwd=project)
    assert r.code == 2, r.text
    assert "19 ok" in r.out and "1 drift" in r.out
    metrics = (project / "m.prom").read_text()
    assert metrics.count("# TYPE reconciler_drift_check_success gauge") == 1
    assert 'reconciler_drift_check_success{database="db03"} 1' in metrics
    assert 'reconciler_drift_objects{database="db03",target="pg",kind="column"' in metrics
    assert 'database="db04",target="pg"' not in metrics


def test_rollout_stops_at_the_first_failure_and_leaves_the_failed_database_as_it_was(
    project, fleet_urls, pg_dump_schema
):
    _sabotage(fleet_urls[6])
    before = pg_dump_schema(fleet_urls[6])
    r = run_cli("apply", "--auto-approve", "--parallel", "1", "--json", cwd=project)
    assert r.code == 1, r.text
    doc = _report(r)
    targets = _by_name(doc)
    assert [targets[f"db{i:02d}"]["status"] for i in range(6)] == ["applied"] * 6
    assert targets["db06"]["status"] == "failed"
    assert "could not create unique index" in targets["db06"]["error"], targets["db06"]
    assert all(targets[f"db{i:02d}"]["status"] == "not started" for i in range(7, FLEET_SIZE))
    assert "stopped after a failure" in doc["stopped"]
    assert pg_dump_schema(fleet_urls[6]) == before  # the failed one: exactly as it was
    assert all(_tables(u) == set() for u in fleet_urls[7:])  # the rest: untouched
    # The next rollout picks up where this one stopped; --continue-on-error passes the bad one.
    r = run_cli("apply", "--auto-approve", "--parallel", "4", "--continue-on-error", cwd=project)
    assert r.code == 1, r.text
    assert "6 ok" in r.out and "13 applied" in r.out and "1 failed" in r.out, r.out
    assert all(_tables(u) == {"users"} for u in fleet_urls)
    assert pg_dump_schema(fleet_urls[6]) == before


def test_a_failed_canary_touches_no_other_database(project, fleet_urls):
    _sabotage(fleet_urls[0])
    r = run_cli(
        "apply", "--auto-approve", "--canary", "1", "--continue-on-error", "--json", cwd=project
    )
    assert r.code == 1, r.text
    doc = _report(r)
    assert doc["summary"] == {"targets": FLEET_SIZE, "failed": 1, "not started": 19}
    assert "canary" in doc["stopped"]
    assert all(_tables(u) == set() for u in fleet_urls[1:])


def test_a_held_lock_fails_only_its_own_database(project, fleet_urls):
    with psycopg.connect(fleet_urls[5], autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        r = run_cli("apply", "--auto-approve", "--continue-on-error", "--json", cwd=project)
    assert r.code == 1, r.text
    targets = _by_name(_report(r))
    assert targets["db05"]["status"] == "failed" and "lock" in targets["db05"]["error"].lower()
    assert sum(t["status"] == "applied" for t in targets.values()) == FLEET_SIZE - 1
    assert _tables(fleet_urls[5]) == set()


def test_a_database_that_cannot_be_planned_stops_the_rollout_before_any_apply(project, fleet_urls):
    config = (project / "reconciler.yaml").read_text()
    bad = fleet_urls[9].rsplit("/", 1)[0] + "/no_such_database"
    (project / "reconciler.yaml").write_text(config.replace(fleet_urls[9], bad))
    r = run_cli("apply", "--auto-approve", "--json", cwd=project)
    assert r.code == 1, r.text
    doc = _report(r)
    assert doc["summary"] == {"targets": FLEET_SIZE, "failed": 1, "not started": 19}
    assert "nothing was applied" in doc["stopped"]
    assert all(_tables(u) == set() for u in fleet_urls)


def test_targets_from_a_file_and_from_a_query(project, fleet_urls, pg_url, monkeypatch):
    monkeypatch.setenv("FLEET_DB_LAST", fleet_urls[-1])
    lines = ["# shards", *(f"f{i} {u}" for i, u in enumerate(fleet_urls[:3])), "${FLEET_DB_LAST}"]
    (project / "targets.txt").write_text("\n".join(lines) + "\n")
    (project / "reconciler.yaml").write_text(
        "version: 1\nenvironments:\n  tenants:\n    pg: {file: targets.txt}\n"
    )
    r = run_cli("plan", "--json", cwd=project)
    assert r.code == 0, r.text
    names = [t["name"] for t in _report(r)["targets"]]
    assert names == ["f0", "f1", "f2", fleet_urls[-1].rsplit("/", 1)[1]]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE targets (name text, dsn text, active bool)")
        for i, u in enumerate(fleet_urls):
            conn.execute("INSERT INTO targets VALUES (%s, %s, %s)", (f"q{i:02d}", u, i % 4 == 0))
    monkeypatch.setenv("CATALOG_URL", pg_url)
    (project / "reconciler.yaml").write_text(
        "version: 1\nenvironments:\n  regions:\n    pg:\n      query: SELECT name, dsn FROM "
        "targets WHERE active ORDER BY name\n      from: ${CATALOG_URL}\n"
    )
    r = run_cli("drift", "--json", cwd=project)
    assert r.code == 2, r.text  # nothing applied yet: every database drifts from the YAML
    assert [t["name"] for t in _report(r)["targets"]] == ["q00", "q04", "q08", "q12", "q16"]


@pytest.mark.parametrize(
    ("pg", "message"),
    [
        ("[]", "reconciler.yaml:5: pg lists no database"),
        ("[{url: a, port: 1}]", "reconciler.yaml:5: pg must be a URL, a list"),
        ("{file: x, query: y}", "reconciler.yaml:5: pg must be a URL, a list"),
        ("[postgresql://h/a, postgresql://h/a]", "is listed twice"),
        ("[postgresql://h1/a, postgresql://h2/a]", "two fleet targets are named 'a'"),
    ],
)
def test_fleet_mistakes_are_one_sentence(tmp_path, monkeypatch, pg, message):
    monkeypatch.delenv("RECONCILER_PG_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (tmp_path / "reconciler.yaml").write_text(
        f"version: 1\ndefault_environment: f\nenvironments:\n  f:\n    pg: {pg}\n"
    )
    write_yaml(tmp_path / "schemas", "tables/users.yaml", USERS)
    r = run_cli("plan", cwd=tmp_path)
    assert r.code == 1 and message in r.err, r.err


def test_single_target_commands_and_options_refuse_a_fleet(project, fleet_urls):
    r = run_cli("rollback", "--last", cwd=project)
    assert r.code == 1 and "is a fleet of databases" in r.err and "--pg" in r.err, r.err
    r = run_cli("apply", "--plan", "x.plan.json", cwd=project)
    assert r.code == 1 and "a saved plan belongs to one database" in r.err, r.err
    r = run_cli("plan", "--pg", fleet_urls[0], "--parallel", "3", cwd=project)
    assert r.code == 1 and "--parallel only applies to a fleet" in r.err, r.err
    # --pg names one database of it: an ordinary single run
    r = run_cli("plan", "--pg", fleet_urls[0], "--out", str(project / "one"), cwd=project)
    assert r.code == 0 and "Saved plan" in r.out, r.text


def _secret_fleet(project: Path, fleet_urls: list[str], password: str) -> None:
    url = fleet_urls[0].replace("postgresql://postgres@", f"postgresql://postgres:{password}@")
    (project / "reconciler.yaml").write_text(
        f"version: 1\nenvironments:\n  f:\n    pg: ['{url}', '{fleet_urls[1]}']\n"
    )


def test_no_password_reaches_the_output(project, fleet_urls):
    password = "s3cret-" + uuid.uuid4().hex[:6]
    _secret_fleet(project, fleet_urls, password)
    for args in (("plan",), ("plan", "--json"), ("drift", "--json")):
        r = run_cli(*args, cwd=project)
        assert password not in r.text and r.code in (0, 2), r.text
    assert ":***@" in run_cli("plan", "--json", cwd=project).out


def test_run_starts_no_target_after_a_failure_when_asked(tmp_path):
    items = [fleet.Target(f"t{i}", f"postgresql://h/t{i}") for i in range(10)]
    started: list[str] = []

    def work(target: fleet.Target, res: fleet.TargetResult) -> None:
        started.append(target.name)
        if target.name == "t2":
            raise RuntimeError("boom at postgresql://h/t2")
        res.status = fleet.APPLIED

    results: dict[str, fleet.TargetResult] = {}
    assert not fleet.run(items, work, parallel=1, stop_on_failure=True, results=results)
    assert started == ["t0", "t1", "t2"]
    assert results["t2"].status == "failed" and results["t9"].status == "not started"
    results.clear()
    started.clear()
    assert not fleet.run(items, work, parallel=3, results=results)
    assert sorted(started) == sorted(t.name for t in items)
    assert sum(r.status == "applied" for r in results.values()) == 9


def test_a_fleet_names_no_redis(tmp_path, monkeypatch):
    monkeypatch.delenv("RECONCILER_PG_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (tmp_path / "reconciler.yaml").write_text(
        "version: 1\nenvironments:\n  f:\n    pg: [postgresql://h/a, postgresql://h/b]\n"
        "    redis: redis://127.0.0.1:6379/0\n"
    )
    write_yaml(tmp_path / "schemas", "tables/users.yaml", USERS)
    r = run_cli("drift", cwd=tmp_path)
    assert r.code == 1 and "reconciler.yaml:5:" in r.err and "its own environment" in r.err, r.err


def test_ctrl_c_starts_no_more_targets_and_lets_the_running_ones_end():
    items = [fleet.Target(f"t{i}", f"postgresql://h/t{i}") for i in range(6)]

    def work(target: fleet.Target, res: fleet.TargetResult) -> None:
        time.sleep(0.6)
        res.status = fleet.APPLIED

    results: dict[str, fleet.TargetResult] = {}
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(fleet.Interrupted, match="4 not started"):
        fleet.run(items, work, parallel=2, results=results)
    timer.join()
    assert [results[f"t{i}"].status for i in range(6)] == ["applied"] * 2 + ["not started"] * 4


def _observe(conn: psycopg.Connection) -> tuple[bool, int]:
    """Whether the schema is there, and how many applies are recorded as applied."""
    has_table = conn.execute("SELECT to_regclass('public.users') IS NOT NULL").fetchone()[0]
    recorded = conn.execute("SELECT to_regclass('reconciler.applies') IS NOT NULL").fetchone()
    count = 0
    if recorded[0]:
        count = conn.execute(
            "SELECT count(*) FROM reconciler.applies WHERE status = 'applied'"
        ).fetchone()[0]
    return has_table, count


def _applied(url: str) -> bool:
    """Fully applied (schema and its recorded apply) or as it was (neither); never half.

    The reads are separate statements, so an apply committing between them (while a rollout
    runs) can pair the state before it with the state after it: read again until two reads
    in a row agree. A database left half applied reads the same every time, and fails.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        seen = _observe(conn)
        while (again := _observe(conn)) != seen:
            seen = again
    has_table, count = seen
    assert has_table == (count == 1), (url, has_table, count)
    return has_table


def test_kill_9_mid_rollout_leaves_each_database_applied_or_as_it_was(project, fleet_urls):
    import subprocess
    import sys

    argv = [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--parallel", "2"]
    env = {k: v for k, v in os.environ.items() if k not in ("RECONCILER_PG_URL", "DATABASE_URL")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    child = subprocess.Popen(
        argv, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(map(_applied, fleet_urls[:4])) < 2:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    done = [u for u in fleet_urls if _applied(u)]
    assert 2 <= len(done) < FLEET_SIZE, len(done)  # killed in the middle of the rollout
    # The next rollout finishes: each lock went with its dead session.
    r = run_cli("apply", "--auto-approve", "--lock-timeout", "15", "--json", cwd=project)
    assert r.code == 0, r.text
    summary = _report(r)["summary"]
    assert summary.get("ok", 0) == len(done) and summary["applied"] == FLEET_SIZE - len(done)
    assert all(_applied(u) for u in fleet_urls)


def test_a_drop_withheld_on_one_database_is_said_under_its_name(project, fleet_urls):
    """A database whose only difference is a drop withheld (its extra table is published):
    fleet plan and apply say so under its name, as a single target's plan does, never
    silently "ok"."""
    r = run_cli("apply", "--auto-approve", cwd=project)
    assert r.code == 0, r.text
    with psycopg.connect(fleet_urls[3], autocommit=True) as conn:
        conn.execute("CREATE TABLE accounts (id int PRIMARY KEY)")
        conn.execute("CREATE PUBLICATION pub_accounts FOR TABLE accounts")
    for command in (("plan",), ("apply", "--auto-approve")):
        r = run_cli(*command, cwd=project)
        assert r.code == 0, r.text
        assert "db03" in r.out and "publication pub_accounts" in r.out, r.text
        assert "1 drop withheld" in r.out, r.text
        assert r.out.count("drop withheld") == 1, r.text  # that database alone, once
    assert "accounts" in _tables(fleet_urls[3])
