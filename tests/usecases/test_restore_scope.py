"""What `restore` does and does not do, as its help and docs/operations.md say: what the backup
holds replaces what is there (a changed row, a changed key's value and expiry come back); what
it does not hold (a table and a key created after the backup) is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tests.helpers import run_cli

pytestmark = pytest.mark.servers


def test_restore_replaces_what_the_backup_holds_and_keeps_the_rest(
    pg_url, pg_conn, private_redis, tmp_path: Path
) -> None:
    redis_url = private_redis.url()
    client = redis.Redis.from_url(redis_url)
    pg_conn.execute("CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL)")
    pg_conn.execute("INSERT INTO accounts VALUES (1, 'ann'), (2, 'bob')")
    client.set("app:cache:1", "old", px=3_600_000)
    r = run_cli("backup", "--pg", pg_url, "--redis", redis_url, "--out", "b", cwd=tmp_path)
    assert r.code == 0, r.text
    (dump,) = (tmp_path / "b").glob("*.dump")

    pg_conn.execute(
        "UPDATE accounts SET owner = 'eve' WHERE id = 1; DELETE FROM accounts WHERE id = 2"
    )
    pg_conn.execute("CREATE TABLE later (id int)")
    client.set("app:cache:1", "new")  # no expiry now
    client.set("app:later", "x")

    r = run_cli(
        "restore", str(dump), "--pg", pg_url, "--redis", redis_url, "--auto-approve", cwd=tmp_path
    )
    assert r.code == 0, r.text
    rows = pg_conn.execute("SELECT id, owner FROM accounts ORDER BY id").fetchall()
    assert rows == [(1, "ann"), (2, "bob")]
    assert client.get("app:cache:1") == b"old" and client.pttl("app:cache:1") > 0
    # kept: restore removes nothing the backup does not hold
    assert pg_conn.execute("SELECT to_regclass('public.later')").fetchone() == ("later",)
    assert client.get("app:later") == b"x"
    client.close()


def test_restore_help_says_what_is_kept() -> None:
    r = run_cli("restore", "--help")
    text = " ".join(r.out.split())
    assert "Replaces what is there." not in text
    assert "created after the backup is still there" in text


def test_a_refused_restore_names_the_dependent_object_and_changes_nothing(
    pg_url, pg_conn, tmp_path: Path
) -> None:
    """A table created after the backup references one the backup replaces: pg_restore is
    refused; the error keeps the server's DETAIL (which object depends on it) and says the
    database is as it was."""
    pg_conn.execute("CREATE TABLE accounts (id int PRIMARY KEY)")
    pg_conn.execute("INSERT INTO accounts VALUES (1)")
    r = run_cli("backup", "--pg", pg_url, "--out", "b", cwd=tmp_path)
    assert r.code == 0, r.text
    (dump,) = (tmp_path / "b").glob("*.dump")
    pg_conn.execute("CREATE TABLE after_child (a int REFERENCES accounts (id))")
    pg_conn.execute("INSERT INTO accounts VALUES (2)")

    r = run_cli("restore", str(dump), "--pg", pg_url, "--auto-approve", cwd=tmp_path)

    assert r.code == 1, r.text
    text = " ".join(r.err.split())
    assert "after_child_a_fkey" in text, r.err  # the DETAIL line, not only the ERROR
    assert "the database is as it was" in text, r.err
    assert "Traceback" not in r.text
    rows = pg_conn.execute("SELECT id FROM accounts ORDER BY id").fetchall()
    assert rows == [(1,), (2,)]  # nothing restored
