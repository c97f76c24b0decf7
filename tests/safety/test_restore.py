"""A restore is all or nothing, and no password reaches a client program's command line."""

from __future__ import annotations

from pathlib import Path

import psycopg

from reconciler.connect.pgclient import _without_password
from tests.helpers import run_cli


def _tables(url: str) -> list[tuple[str, int]]:
    with psycopg.connect(url, autocommit=True) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return [(n, conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names]


def test_a_truncated_dump_leaves_the_database_as_it_was(pg_url, tmp_path: Path):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for i in range(60):
            conn.execute(f"CREATE TABLE t{i} (id bigint PRIMARY KEY, a text)")
            conn.execute(
                f"INSERT INTO t{i} SELECT g, repeat('x', 200) FROM generate_series(1, 300) g"
            )
    r = run_cli("backup", "--pg", pg_url, "--out", "bk", cwd=tmp_path)
    assert r.code == 0, r.text
    dump = next((tmp_path / "bk").glob("*.dump"))
    cut = tmp_path / "cut" / dump.name
    cut.parent.mkdir()
    cut.write_bytes(dump.read_bytes()[: dump.stat().st_size * 2 // 3])
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO t0 VALUES (1000, 'after the backup')")
    before = _tables(pg_url)
    r = run_cli("restore", str(cut), "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert r.code == 1, r.text
    assert "pg_restore failed" in r.err
    assert _tables(pg_url) == before  # not half restored: every table, every row


def test_no_password_goes_on_a_client_command_line():
    argv, password = _without_password(
        ["pg_dump", "-Fc", "--dbname=postgresql://sec:S3cret-pw@127.0.0.1:5432/db"]
    )
    assert password == "S3cret-pw" and not any("S3cret" in a for a in argv)
    argv, password = _without_password(["psql", "-d", "user=sec password='a b' dbname=x"])
    assert password == "a b" and argv == ["psql", "-d", "user=sec dbname=x"]
    argv, password = _without_password(["pg_restore", "--dbname=postgresql://h/db", "f.dump"])
    assert password is None and argv[1] == "--dbname=postgresql://h/db"
