"""A plan bigger than the server's lock table: refused before it starts with what to change,
or applied (and rolled back) in recorded batches that are undone together on failure.

A cluster of its own, with a lock table of 10 * 32 entries (max_locks_per_transaction=10, 32
server processes), stands in for a default server and a plan of thousands of tables: the same
arithmetic, twenty times smaller."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from reconciler import dev
from reconciler.connect.pgclient import client_binary
from reconciler.introspect.pg.per_table import per_table
from reconciler.state.postgres import PgState
from tests.helpers import run_cli, write_yaml

TABLES = 300  # ~1,200 relations: well past the 320 entries and the shared memory they may grow into
SETTINGS = ("max_locks_per_transaction=10", "max_connections=10")


@pytest.fixture(scope="module")
def small_server(server_dir: Path) -> Iterator[dev.PgServer]:
    server = dev.start_postgres(server_dir / "pg-small-locks", settings=SETTINGS)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def url(small_server: dev.PgServer, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "t_" + request.node.name[:40].lower().replace("[", "_").replace("]", "")
    with psycopg.connect(small_server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield small_server.url(name)
    with psycopg.connect(small_server.url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _schemas(root: Path, extra: str = "") -> Path:
    for i in range(TABLES):
        write_yaml(
            root,
            f"tables/t{i:03}.yaml",
            f"""\
table: t{i:03}
columns:
  - {{name: id, type: uuid, nullable: false, default: gen_random_uuid()}}
  - {{name: label, type: text}}
  - {{name: created_at, type: timestamptz, nullable: false, default: now()}}
  - {{name: updated_at, type: timestamptz, nullable: false, default: now()}}
primary_key: [id]
""",
        )
    if extra:
        write_yaml(root, "tables/existing.yaml", extra)
    return root


def _restart(server: dev.PgServer) -> None:
    """A fresh lock table. It grows into the cluster's spare shared memory, and what one
    session's locks took of that stays taken until a restart: without one, whether the next
    transaction fits depends on what ran before it."""
    server.stop()
    dev.start_postgres(server.datadir, port=server.port, settings=SETTINGS)


def _tables(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 't%'"
        ).fetchone()[0]


def test_too_big_for_one_transaction_is_refused_then_applied_and_rolled_back_in_batches(
    url, tmp_path, small_server
):
    schemas = _schemas(tmp_path / "s")
    plan = run_cli("plan", "--pg", url, "--schemas", str(schemas), "--out", "plans", cwd=tmp_path)
    assert plan.code == 0, plan.text
    # the trap is real: the up file in one transaction runs out of shared memory
    up = next((tmp_path / "plans").glob("*_up.sql"))
    psql = [client_binary("psql"), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-f", str(up), url]
    _restart(small_server)
    naive = subprocess.run(psql, capture_output=True, text=True, check=False)
    assert naive.returncode != 0 and "out of shared memory" in naive.stderr, naive.stderr
    assert _tables(url) == 0
    _restart(small_server)  # the failed transaction took every spare byte for its locks

    refused = run_cli("apply", "--pg", url, "--schemas", str(schemas), "--auto-approve",
                      cwd=tmp_path)  # fmt: skip
    assert refused.code == 1
    assert "would lock about" in refused.err and "out of shared memory" in refused.err
    assert "max_locks_per_transaction to at least" in refused.err
    assert "--in-batches" in refused.err
    assert _tables(url) == 0

    done = run_cli("apply", "--pg", url, "--schemas", str(schemas), "--auto-approve",
                   "--in-batches", cwd=tmp_path)  # fmt: skip
    assert done.code == 0, done.text
    assert _tables(url) == TABLES
    with psycopg.connect(url, autocommit=True) as conn:
        events = conn.execute(
            "SELECT detail FROM reconciler.events WHERE kind = 'batch-committed' ORDER BY id"
        ).fetchall()
        applied = [r for r in PgState(conn).history() if r.status == "applied"]
    assert len(events) >= 2, "the apply was not cut into batches"
    assert len(applied) == 1
    again = run_cli("plan", "--pg", url, "--schemas", str(schemas), "--detailed-exitcode",
                    cwd=tmp_path)  # fmt: skip
    assert again.code == 0, again.text

    refused = run_cli("rollback", "--pg", url, "--last", "--auto-approve", cwd=tmp_path)
    assert refused.code == 1 and "--in-batches" in refused.err
    back = run_cli("rollback", "--pg", url, "--last", "--auto-approve", "--in-batches",
                   cwd=tmp_path)  # fmt: skip
    assert back.code == 0, back.text
    assert _tables(url) == 0


def test_a_failure_in_a_later_part_undoes_every_committed_batch(url, tmp_path, pg_dump_schema):
    """The new unique index meets duplicates after the tables' batches committed."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE existing (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), code text, "
            "created_at timestamptz NOT NULL DEFAULT now(), "
            "updated_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("INSERT INTO existing (code) VALUES ('dup'), ('dup')")
    before = pg_dump_schema(url)
    existing = """\
table: existing
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: code, type: text}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
indexes:
  - {name: existing_code_key, columns: [code], unique: true}
"""
    schemas = _schemas(tmp_path / "s", extra=existing)
    r = run_cli("apply", "--pg", url, "--schemas", str(schemas), "--auto-approve",
                "--in-batches", cwd=tmp_path)  # fmt: skip
    assert r.code == 1, r.text
    assert "existing_code_key" in r.err and "was undone, so nothing was changed" in r.err
    assert _tables(url) == 0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA reconciler CASCADE")  # the state, which the dump before lacks
    assert pg_dump_schema(url) == before, "the committed batches were not undone exactly"


def test_questions_about_many_tables_fit_the_lock_table(url, small_server):
    """Reading every table a big plan drops (has it rows? how many?) locks each, and its
    indexes, until the transaction ends: asked in one query, the questions themselves ran out
    of shared memory where the plan needed --in-batches (the rollback's count of what its
    drops take, among them)."""
    names = [("public", f"t{i:03}") for i in range(TABLES)]
    with psycopg.connect(url, autocommit=True) as conn:
        for _, name in names:
            conn.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, code text UNIQUE)")
            conn.execute(f"INSERT INTO {name} VALUES (1, 'a')")
    _restart(small_server)
    with psycopg.connect(url, autocommit=True) as conn:
        held = per_table(conn, names, "EXISTS (SELECT FROM {table})")
        counted = per_table(conn, names, "(SELECT count(*) FROM {table})")
    assert held == dict.fromkeys(names, True)
    assert counted == dict.fromkeys(names, 1)


def test_a_type_change_on_many_tables_is_checked_within_the_lock_table(url, small_server, tmp_path):
    """The plan reads the live values of every column whose type it changes (do they
    survive?): read all in one transaction, the tables' locks ran out of the lock table, and
    the check could not prove what it proves on a few tables."""
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(TABLES):
            conn.execute(f"CREATE TABLE t{i:03} (id int PRIMARY KEY, n bigint UNIQUE)")
            conn.execute(f"INSERT INTO t{i:03} VALUES (1, 7)")
    for i in range(TABLES):
        write_yaml(
            tmp_path / "s",
            f"tables/t{i:03}.yaml",
            f"table: t{i:03}\n"
            "lint: {ignore: [{rule: timestamps, reason: test}]}\n"
            "columns:\n  - {name: id, type: integer, nullable: false}\n"
            "  - {name: n, type: integer}\nprimary_key: [id]\n"
            f"unique:\n  - {{name: t{i:03}_n_key, columns: [n]}}\n",
        )
    _restart(small_server)
    r = run_cli("plan", "--pg", url, "--schemas", str(tmp_path / "s"), cwd=tmp_path)
    assert r.code == 0, r.text
    assert "destructive" not in r.text, r.text  # 7 fits an integer: proven to survive
