"""An online step that fails after the first transaction committed is undone — without
dropping what clients wrote, between the phases, into what that transaction made."""

from __future__ import annotations

import threading
import time

import psycopg

from tests.helpers import run_cli, write_yaml
from tests.safety.test_batches import _waiting
from tests.safety.test_interrupted import _held, _start, _wait_blocked

TABLE = """\
table: u
columns:
  - {name: id, type: bigint, nullable: false}
  - {name: email, type: text}
primary_key: [id]
"""
GROWN = (
    TABLE.replace("primary_key: [id]", "  - {name: note, type: text}\nprimary_key: [id]")
    .replace("  - {name: note", "  - {name: note")
    .replace(
        "primary_key: [id]", "primary_key: [id]\nindexes:\n  - {columns: [email], unique: true}"
    )
)


def test_a_failed_online_build_keeps_what_clients_wrote_meanwhile(pg_url, tmp_path):
    write_yaml(tmp_path, "schemas/tables/u.yaml", TABLE)
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO u VALUES (1, 'dup'), (2, 'dup'), (3, 'x')")
    write_yaml(tmp_path, "schemas/tables/u.yaml", GROWN)
    # Held exactly between the phases: the run notes each phase in the state's events (the
    # first inside its transaction, the next before the online build). Hold the table, queue
    # a second hold behind the first phase's COMMIT, let go of the first.
    second = psycopg.connect(pg_url)
    with _held(pg_url, "events"):
        proc = _start(tmp_path, "apply", "--pg", pg_url, "--schemas", "schemas")
        _wait_blocked(pg_url, proc, "apply")  # the first phase, before its COMMIT
        queued = threading.Thread(
            target=second.execute, args=("LOCK TABLE reconciler.events IN EXCLUSIVE MODE",)
        )
        queued.start()
        with psycopg.connect(pg_url, autocommit=True) as watch:
            while not _waiting(watch, second.info.backend_pid):
                time.sleep(0.02)
    queued.join(timeout=30)
    _wait_blocked(pg_url, proc, "apply")  # the new column committed; the build waits
    with psycopg.connect(pg_url, autocommit=True) as client:
        client.execute("UPDATE u SET note = 'a client wrote this' WHERE id = 3")
    second.rollback()
    second.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "undone" in err and "kept as reconciler_trash." in err, err
    assert "nothing was changed" not in err
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'u'::regclass AND attname = 'note'"
        ).fetchone() == (0,)  # the column is undone ...
        kept = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'reconciler_trash'"
        ).fetchall()
        assert len(kept) == 1  # ... and what was written into it is kept
        value = conn.execute(
            f'SELECT note FROM reconciler_trash."{kept[0][0]}" WHERE id = 3'
        ).fetchone()
    assert value == ("a client wrote this",)
