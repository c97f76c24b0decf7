"""The plan's .sql files indent the continuation lines of a statement (a DO block's statements,
a rule's clauses) where SQL ignores the spaces, and nowhere else: psql replaying the file makes
the schema apply makes, a function's body and a comment's lines are kept as they are. A plan
written before, unindented, still checks against its files."""

from __future__ import annotations

import json
import os
import subprocess

import psycopg
import pytest

from reconciler.dev import find_pg_bindir
from reconciler.plan import Plan
from reconciler.plan.files import _render, render, sha256
from tests.helpers import run_cli, write_yaml

START = """
CREATE TABLE public.accounts (id integer PRIMARY KEY, email text NOT NULL);
INSERT INTO public.accounts VALUES (1, 'a@example.org');
"""
ACCOUNTS = """
table: accounts
columns:
  - {name: id, type: integer, nullable: false}
  - {name: email, type: text, nullable: false}
primary_key: [id]
checks:
  - name: accounts_email_check
    expression: email <> ''
"""
NOTES = """
table: notes
comment: |-
  Notes on accounts.
  Second line, at its own left edge.
columns:
  - {name: id, type: integer, nullable: false}
  - {name: account_id, type: integer, nullable: false}
primary_key: [id]
foreign_keys:
  - columns: [account_id]
    references: accounts
functions:
  - name: note_count
    returns: bigint
    language: plpgsql
    body: |
      BEGIN
      RETURN (SELECT count(*) FROM public.notes);
      END
"""


def _psql(url: str, path) -> None:
    done = subprocess.run(
        [str(find_pg_bindir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(path), url],
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_sql_files_indent_continuation_lines_and_replay_as_apply_runs(
    make_pg_database, tmp_path, pg_dump_schema
):
    applied, replayed = make_pg_database(), make_pg_database()
    for url in (applied, replayed):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(START)
    root = tmp_path / "schemas"
    write_yaml(root, "tables/accounts.yaml", ACCOUNTS)
    write_yaml(root, "tables/notes.yaml", NOTES)
    out = tmp_path / "plans"
    r = run_cli("plan", "--pg", applied, "--schemas", str(root), "--out", str(out), cwd=tmp_path)
    assert r.code == 0, r.text
    (path,) = out.glob("*.plan.json")
    up = path.with_name(path.name.replace(".plan.json", "_up.sql"))
    text = up.read_text(encoding="utf-8")
    lines = text.splitlines()
    # the statement a DO block guards sits inside it, indented; its block keywords do not
    guarded = [i for i, line in enumerate(lines) if line.startswith("DO $reconciler$BEGIN")]
    assert guarded, text
    for i in guarded:
        assert lines[i + 1].startswith("    "), text
    add = lines.index(
        '    ALTER TABLE "public"."notes" ADD CONSTRAINT "fk_notes_accounts" FOREIGN KEY '
        '("account_id") REFERENCES "public"."accounts" ("id") ON UPDATE NO ACTION '
        "ON DELETE NO ACTION;"
    )
    assert lines[add - 1] == "DO $reconciler$BEGIN", text
    assert lines[add + 1].startswith("EXCEPTION WHEN duplicate_object OR duplicate_table "), text
    assert lines[add + 2] == "END$reconciler$;", text
    assert "\n    RETURNS bigint\n" in text, text  # the function's header, in its DO block
    # what is inside a literal or a function's body keeps its own left edge
    assert "\nSecond line, at its own left edge.'" in text, text
    assert "\nRETURN (SELECT count(*) FROM public.notes);\n" in text, text

    _psql(replayed, up)  # the file as psql runs it (a phased up file: without -1)
    r = run_cli("apply", "--pg", applied, "--plan", str(path), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    assert pg_dump_schema(replayed) == pg_dump_schema(applied)


def test_a_replay_under_another_session_s_settings_makes_what_apply_makes(
    make_pg_database, tmp_path, pg_dump_schema
):
    """The files set what the apply runs under: a replay by psql from a session in another
    time zone, date style and search_path reads the literals and the bare names alike."""
    applied, replayed = make_pg_database(), make_pg_database()
    with psycopg.connect(replayed, autocommit=True) as conn:  # what a bare code() would find
        conn.execute("CREATE SCHEMA elsewhere")
        conn.execute("CREATE FUNCTION elsewhere.code() RETURNS text LANGUAGE sql AS $$SELECT 'e'$$")
    write_yaml(
        tmp_path / "schemas",
        "functions/code.yaml",
        "functions:\n  - {name: code, returns: text, language: sql, body: \"SELECT 'p'\"}\n",
    )
    write_yaml(
        tmp_path / "schemas",
        "tables/events.yaml",
        """\
table: events
columns:
  - {name: id, type: integer, nullable: false}
  - {name: at, type: timestamptz, default: "'2024-01-01 00:00'"}
  - {name: day, type: date, default: "'03/04/2024'"}
  - {name: code, type: text, default: code()}
primary_key: [id]
""",
    )
    out = tmp_path / "plans"
    r = run_cli("plan", "--pg", applied, "--schemas", "schemas", "--out", str(out), cwd=tmp_path)
    assert r.code == 0, r.text
    (path,) = out.glob("*.plan.json")
    up = path.with_name(path.name.replace(".plan.json", "_up.sql"))
    options = "-c client_min_messages=warning -c search_path=elsewhere,public -c datestyle=DMY"
    done = subprocess.run(
        [str(find_pg_bindir() / "psql"), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-f", str(up),
         replayed],
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "PGTZ": "Asia/Tokyo", "PGOPTIONS": options},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with psycopg.connect(replayed, autocommit=True) as conn:  # a default using it goes with it
        conn.execute("DROP SCHEMA elsewhere CASCADE")
    r = run_cli("apply", "--pg", applied, "--plan", str(path), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    assert pg_dump_schema(replayed) == pg_dump_schema(applied)


# The layouts of earlier versions: (label, its rendering of one file)
EARLIER = {
    # continuation lines not indented, no settings
    "unindented": lambda plan, direction: render(plan, "pg", direction, legacy=True),
    # indented, without the SET lines of the apply's settings
    "without the settings": lambda plan, direction: _render(
        plan, "pg", direction, False, settings=False
    ),
}


@pytest.mark.parametrize("layout", sorted(EARLIER))
def test_a_plan_written_in_an_earlier_layout_still_checks(pg_url, pg_conn, tmp_path, layout):
    """Files written by an earlier version keep the checksums they were recorded with."""
    pg_conn.execute(START)
    root = tmp_path / "schemas"
    write_yaml(root, "tables/accounts.yaml", ACCOUNTS)
    out = tmp_path / "plans"
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), "--out", str(out), cwd=tmp_path)
    assert r.code == 0, r.text
    (path,) = out.glob("*.plan.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    old = Plan.from_dict(data)
    for direction in ("up", "down"):
        text = EARLIER[layout](old, direction)
        assert text != render(Plan.from_dict({**data, "files": {}}), "pg", direction)
        meta = data["files"][direction]
        meta["sha256"] = sha256(text)
        (path.parent / meta["name"]).write_text(text, encoding="utf-8")
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert run_cli("show", str(path), cwd=tmp_path).code == 0
    r = run_cli("apply", "--pg", pg_url, "--plan", str(path), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    r = run_cli("rollback", "--pg", pg_url, "--last", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
