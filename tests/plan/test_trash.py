"""Reversible drops: tables and columns holding rows are kept in reconciler_trash, and a
rollback brings the rows back; `reconciler trash list|purge`."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from reconciler.plan.files import read_plan
from tests.helpers import run_cli, write_yaml

NICKNAME = "  - {name: nickname, type: text, comment: Shown in the forum.}\n"
USERS = f"""\
table: users
columns:
  - {{name: id, type: uuid, nullable: false, default: gen_random_uuid()}}
  - {{name: email, type: text, nullable: false}}
  - {{name: created_at, type: timestamptz, nullable: false, default: now()}}
  - {{name: updated_at, type: timestamptz, nullable: false, default: now()}}
{NICKNAME}primary_key: [id]
"""

NOTES = """\
table: notes
comment: Scribbles.
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: number, type: bigint, nullable: false, identity: by default}
  - {name: body, type: text}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
checks:
  - {name: notes_body_check, expression: "body <> ''"}
"""

EMPTY = """\
table: drafts
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
"""


def _tree(root: Path, *files: tuple[str, str]) -> Path:
    for name, text in files:
        write_yaml(root, f"tables/{name}.yaml", text)
    return root


def _cli(cwd: Path, *args: str):
    return run_cli(*args, cwd=cwd)


def _rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query).fetchall()


def _setup(pg_url: str, tmp_path: Path) -> None:
    before = _tree(tmp_path / "before", ("users", USERS), ("notes", NOTES), ("drafts", EMPTY))
    r = _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(before), "--auto-approve")
    assert r.code == 0, r.text
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (email, nickname) SELECT 'u' || g || '@example.com', "
            "CASE WHEN g % 3 = 0 THEN NULL ELSE 'nick ' || g END FROM generate_series(1, 500) g"
        )
        conn.execute("INSERT INTO notes (body) SELECT 'note ' || g FROM generate_series(1, 40) g")


def test_dropped_column_and_table_come_back_row_for_row(
    pg_url, tmp_path, pg_dump_schema, monkeypatch
):
    _setup(pg_url, tmp_path)
    schema_before = pg_dump_schema(pg_url)
    users_before = _rows(pg_url, "SELECT id, email, nickname FROM users ORDER BY email")
    notes_before = _rows(pg_url, "SELECT id, number, body FROM notes ORDER BY number")
    without_nick = USERS.replace(NICKNAME, "")
    after = _tree(tmp_path / "after", ("users", without_nick))

    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(after), "--out", "plans")
    assert r.code == 0, r.text
    plan_file = sorted((tmp_path / "plans").glob("*.plan.json"))[-1]
    plan = read_plan(plan_file)
    kinds = {c.address: c.description for c in plan.changes}
    assert "kept in reconciler_trash" in kinds["pg.table.public.notes"]
    assert "kept in reconciler_trash" in kinds["pg.column.public.users.nickname"]
    assert kinds["pg.table.public.drafts"] == "table", "an empty table is dropped outright"
    # up, up again and down on a scratch copy of the schema: the trash leaves nothing behind
    checked = _cli(tmp_path, "check", "--pg", pg_url, "--schemas", str(after), "--plans", "plans")
    assert checked.code == 0, checked.text

    r = _cli(tmp_path, "apply", "--pg", pg_url, "--plan", str(plan_file), "--auto-approve",
             "--allow-destructive")  # fmt: skip
    assert r.code == 0, r.text
    cols = _rows(
        pg_url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
    )
    assert ("nickname",) not in cols
    assert _rows(pg_url, "SELECT to_regclass('public.notes')") == [(None,)]

    # the trash is not part of the managed schema: nothing to plan
    again = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(after), "--detailed-exitcode",
                 "--out", "plans2")  # fmt: skip
    assert again.code == 0, again.text

    listed = _cli(tmp_path, "trash", "list", "--pg", pg_url, "--json")
    assert listed.code == 0, listed.text
    entries = {e["object"]: e for e in json.loads(listed.out)}
    assert set(entries) == {"public.notes", "public.users.nickname"}
    assert entries["public.notes"]["kind"] == "table" and entries["public.notes"]["dropped_at"]
    for width in ("200", "80", "40"):  # the name `trash restore` takes is never cut
        monkeypatch.setenv("COLUMNS", width)
        text = _cli(tmp_path, "trash", "list", "--pg", pg_url).out
        assert "…" not in text, (width, text)
        for e in entries.values():
            assert e["name"] in text, (width, text)

    back = _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert back.code == 0, back.text
    assert _rows(pg_url, "SELECT id, email, nickname FROM users ORDER BY email") == users_before
    assert _rows(pg_url, "SELECT id, number, body FROM notes ORDER BY number") == notes_before
    # the sequence goes on where it was, and the schema is exactly the one before (no trash)
    assert _rows(pg_url, "SELECT nextval('notes_number_seq')") == [(41,)]
    assert pg_dump_schema(pg_url) == schema_before
    assert _rows(pg_url, "SELECT to_regnamespace('reconciler_trash')") == [(None,)]


def test_purge_then_rollback_brings_the_objects_back_empty(pg_url, tmp_path):
    _setup(pg_url, tmp_path)
    without_nick = USERS.replace(NICKNAME, "")
    after = _tree(tmp_path / "after", ("users", without_nick), ("drafts", EMPTY))
    r = _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(after), "--auto-approve",
             "--allow-destructive")  # fmt: skip
    assert r.code == 0, r.text

    bad = _cli(
        tmp_path, "trash", "purge", "--pg", pg_url, "--older-than", "7 days", "--auto-approve"
    )
    assert bad.code == 1 and "not a duration" in bad.err
    young = _cli(tmp_path, "trash", "purge", "--pg", pg_url, "--older-than", "7d", "--auto-approve")
    assert young.code == 0 and "Nothing in the trash is older than 7d" in young.out
    assert len(json.loads(_cli(tmp_path, "trash", "list", "--pg", pg_url, "--json").out)) == 2
    gone = _cli(tmp_path, "trash", "purge", "--pg", pg_url, "--older-than", "0s", "--auto-approve")
    assert gone.code == 0 and "Purged 2" in gone.out, gone.text
    assert _cli(tmp_path, "trash", "list", "--pg", pg_url).out.strip() == "The trash is empty."
    assert _rows(pg_url, "SELECT to_regnamespace('reconciler_trash')") == [(None,)]

    refused = _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert refused.code == 1 and "trash purge" in refused.err, refused.text
    back = _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve",
                "--allow-destructive")  # fmt: skip
    assert back.code == 0, back.text
    assert _rows(pg_url, "SELECT count(*), count(nickname) FROM users") == [(500, 0)]
    assert _rows(pg_url, "SELECT count(*) FROM notes") == [(0,)]


def test_drop_mode_drop_keeps_nothing_and_quarantine_keeps_empty_tables(pg_url, tmp_path):
    _setup(pg_url, tmp_path)
    after = _tree(tmp_path / "after", ("users", USERS), ("notes", NOTES))
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(after), "--out", "p1",
             "--drop-mode", "quarantine")  # fmt: skip
    assert r.code == 0, r.text
    assert "kept in reconciler_trash" in r.out
    without_notes = _tree(tmp_path / "after2", ("users", USERS), ("drafts", EMPTY))
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(without_notes), "--out", "p2",
             "--drop-mode", "drop", "--json")  # fmt: skip
    assert r.code == 0, r.text
    change = {c["address"]: c for c in json.loads(r.out)["changes"]}["pg.table.public.notes"]
    assert change["description"] == "table" and "all its rows" in change["hazards"][0]["message"]
    wrong = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(after), "--drop-mode", "keep")
    assert wrong.code == 1 and "Unknown --drop-mode 'keep'" in wrong.err
