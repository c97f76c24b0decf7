"""What the CLI prints is something a person acts on: drift says the direction of each
difference with values as the YAML writes them, `state history` never cuts the version that
`rollback --version` takes, rollback shows what it will do before it does it, and counts say
`1 change`, not `1 changes`. Real servers, real commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg

from tests.helpers import run_cli, write_yaml

NOTES = """\
table: notes
columns:
  - {name: id, type: bigint, nullable: false}
  - {name: body, type: text}
  - {name: legacy, type: text}
primary_key: [id]
"""


def _apply(cwd: Path, pg_url: str, text: str, *flags: str) -> None:
    write_yaml(cwd, "schemas/tables/notes.yaml", text)
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", *flags, cwd=cwd)
    assert r.code == 0, r.text


def test_drift_text_says_the_direction_of_each_difference(pg_url, tmp_path):
    _apply(tmp_path, pg_url, NOTES)
    yaml = NOTES.replace("  - {name: legacy, type: text}\n", "  - {name: extra, type: text}\n")
    write_yaml(
        tmp_path,
        "schemas/tables/notes.yaml",
        yaml.replace("body, type: text", "body, type: text, nullable: false"),
    )
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE INDEX notes_body ON notes (body)")  # out of band
    r = run_cli("drift", "--pg", pg_url, "--schemas", "schemas", cwd=tmp_path)
    assert r.code == 2, r.text
    lines = r.out.splitlines()

    def line(address: str) -> str:
        return next(x for x in lines if address in x)

    assert "in the YAML, missing from the database" in line("pg.column.public.notes.extra")
    assert "in the database, not in the YAML" in line("pg.column.public.notes.legacy")
    assert "differs: nullable: false (YAML) vs true (database)" in line(
        "pg.column.public.notes.body"
    )
    assert "in the database, not in the YAML" in line("pg.index.public.notes_body")
    since = lines[next(i for i, x in enumerate(lines) if x.startswith("Changed since")) :]
    index = next(x for x in since if "pg.index.public.notes_body" in x)
    assert "added in the database since the last apply" in index
    assert "True" not in r.out and "False" not in r.out
    j = json.loads(
        run_cli("drift", "--pg", pg_url, "--schemas", "schemas", "--json", cwd=tmp_path).out
    )
    body = next(d for d in j["desired"] if d["address"] == "pg.column.public.notes.body")
    assert body["differences"] == [{"attribute": "nullable", "yaml": False, "database": True}]


def test_rollback_shows_what_it_destroys_before_it_asks(pg_url, tmp_path):
    """The down file's changes grouped as a plan shows them, each hazard with its reason and
    the rows at stake, as apply shows them before its prompt; --auto-approve prints the same."""
    _apply(tmp_path, pg_url, NOTES)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO notes (id, body) SELECT g, 'n' FROM generate_series(1, 1234) g")
    r = run_cli(
        "rollback", "--last", "--pg", pg_url, "--auto-approve", "--allow-destructive", cwd=tmp_path
    )
    assert r.code == 0, r.text
    assert re.search(r"- 2\d{13}_create_table_notes \(1 change\)", r.out), r.out
    assert "# table public.notes" in r.out
    assert "- pg.table.public.notes" in r.out
    assert "Hazards (review before applying):" in r.out
    assert "1,234 rows" in r.out
    assert "Plan: 0 to add, 0 to change, 1 to drop." in r.out


def test_counts_say_one_thing_and_many_things():
    from reconciler.model.words import counted

    assert [counted(0, "key"), counted(1, "key"), counted(1234, "key")] == [
        "0 keys",
        "1 key",
        "1,234 keys",
    ]
    assert counted(1, "index", "indexes") == "1 index" and counted(2, "index", "indexes") == (
        "2 indexes"
    )


def test_state_history_never_cuts_the_version(pg_url, tmp_path, monkeypatch):
    """The version is what `rollback --version` takes: whole at 80 columns and on a narrow
    console; no value is cut with "…" (they fold, or a narrow console gets a block a row)."""
    _apply(tmp_path, pg_url, NOTES)
    _apply(
        tmp_path,
        pg_url,
        NOTES.replace("  - {name: legacy, type: text}\n", ""),
        "--allow-destructive",
    )
    r = run_cli("state", "history", "--pg", pg_url, "--json", cwd=tmp_path)
    versions = [h["version"] for h in json.loads(r.out)]
    assert len(versions) == 2
    for width in ("200", "80", "60", "30"):
        monkeypatch.setenv("COLUMNS", width)
        r = run_cli("state", "history", "--pg", pg_url, cwd=tmp_path)
        assert r.code == 0, r.text
        for v in versions:
            assert v in r.out, (width, r.out)
        assert "…" not in r.out, (width, r.out)
        if width == "200":
            assert "┃ version" in r.out and "create_table_notes" in r.out, r.out  # a table
    assert "create_table_notes" in r.out  # a narrow console's blocks cut nothing either


def _every_kind_of_output(cwd: Path, pg_url: str, *flags: str) -> dict[str, str]:
    """Plan (bold headings, coloured hazards), apply, drift, history (a table), rollback, an
    error, lock status, validate and help, as a terminal would show them."""
    write_yaml(cwd, "schemas/tables/notes.yaml", NOTES)
    pg = ("--pg", pg_url)
    runs = {
        "help": run_cli(*flags, "--help", cwd=cwd),
        "plan help": run_cli(*flags, "plan", "--help", cwd=cwd),
        "validate": run_cli(*flags, "validate", cwd=cwd),
        "plan": run_cli(*flags, "plan", *pg, "--sql", cwd=cwd),
        "apply": run_cli(*flags, "apply", *pg, "--auto-approve", cwd=cwd),
        "history": run_cli(*flags, "state", "history", *pg, cwd=cwd),
        "lock": run_cli(*flags, "lock", "status", *pg, cwd=cwd),
        "error": run_cli(*flags, "apply", *pg, "--plan", "missing.plan.json", cwd=cwd),
        "usage": run_cli(*flags, "plan", "--no-such-option", cwd=cwd),
    }
    write_yaml(
        cwd, "schemas/tables/notes.yaml", NOTES.replace("  - {name: legacy, type: text}\n", "")
    )
    runs["drift"] = run_cli(*flags, "drift", *pg, cwd=cwd)
    runs["plan drop"] = run_cli(*flags, "plan", *pg, cwd=cwd)
    runs["rollback"] = run_cli(*flags, "rollback", "--last", *pg, "--auto-approve", cwd=cwd)
    return {name: r.out + r.err for name, r in runs.items()}


def test_no_color_means_no_ansi_escape_at_all(pg_url, tmp_path, monkeypatch):
    """NO_COLOR (any non-empty value) or --no-color: not one escape sequence on stdout or
    stderr, not even bold, though the output is forced to be a terminal's."""
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich and typer: style as on a terminal
    monkeypatch.setenv("COLUMNS", "200")
    coloured = _every_kind_of_output(tmp_path / "colour", pg_url)
    assert "\x1b[" in coloured["plan"] and "\x1b[" in coloured["help"]  # the test can fail
    monkeypatch.setenv("NO_COLOR", "yes")
    for name, text in _every_kind_of_output(tmp_path / "env", pg_url).items():
        assert "\x1b[" not in text, (name, text)
    monkeypatch.delenv("NO_COLOR")
    for name, text in _every_kind_of_output(tmp_path / "flag", pg_url, "--no-color").items():
        assert "\x1b[" not in text, (name, text)


def test_a_big_plan_on_a_terminal_is_a_summary_listing_every_hazard(pg_url, tmp_path, monkeypatch):
    """Above 200 changes a terminal gets counts per kind and action and per hazard code, and
    every hazard on a line (said in one line, with --full); --summary asks for it anywhere,
    --full and a pipe get every change."""
    _apply(tmp_path, pg_url, NOTES)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO notes (id, legacy) SELECT g, 'x' FROM generate_series(1, 7) g")
    notes = NOTES.replace("  - {name: legacy, type: text}\n", "")
    write_yaml(
        tmp_path, "schemas/tables/notes.yaml", notes.replace("text}", "text, nullable: false}")
    )
    for i in range(210):
        write_yaml(
            tmp_path,
            f"schemas/tables/t_{i:03}.yaml",
            f"table: t_{i:03}\ncolumns:\n  - {{name: id, type: bigint, nullable: false}}\n"
            "primary_key: [id]\n",
        )
    plan = ("plan", "--pg", pg_url, "--schemas", "schemas")
    changes = json.loads(run_cli(*plan, "--json", cwd=tmp_path).out)["changes"]
    hazards = [(c["address"], h["code"]) for c in changes for h in c["hazards"]]
    assert len(changes) == 212 and len(hazards) >= 2

    monkeypatch.setenv("FORCE_COLOR", "1")  # a terminal, in plain text
    monkeypatch.setenv("NO_COLOR", "1")
    r = run_cli(*plan, cwd=tmp_path)
    assert r.code == 0, r.text
    lines = r.out.splitlines()
    assert lines[0] == "212 changes: showing a summary; --full for every change."
    assert re.search(r"^  table\s+210\s", r.out, re.M), r.out
    assert "Hazards by code" in r.out
    for code in {c for _, c in hazards}:
        n = sum(1 for _, c in hazards if c == code)
        assert re.search(rf"^  {code}\s+{n}$", r.out, re.M), (code, r.out)
    listed = [x for x in lines if x.startswith("  ! ")]
    assert len(listed) == len(hazards)
    for address, code in hazards:
        assert any(code in x and f"{address}:" in x for x in listed), (address, r.out)
    assert "pg.table.public.t_209" not in r.out and len(lines) < 40
    assert "Plan: 210 to add, 1 to change, 1 to drop." in r.out

    full = run_cli(*plan, "--full", cwd=tmp_path)
    assert "pg.table.public.t_209" in full.out and "showing a summary" not in full.out
    monkeypatch.delenv("FORCE_COLOR")  # a pipe: every change, unless asked
    assert "pg.table.public.t_209" in run_cli(*plan, cwd=tmp_path).out
    asked = run_cli(*plan, "--summary", cwd=tmp_path)
    assert "Changes by kind:" in asked.out and "pg.table.public.t_209" not in asked.out
    assert "showing a summary" not in asked.out  # asked for: no need to say why
    refused = run_cli(*plan, "--summary", "--sql", cwd=tmp_path)
    assert refused.code == 1 and "--summary" in refused.err

    # apply's and rollback's prompts show the same summary on a terminal, every hazard listed
    monkeypatch.setenv("FORCE_COLOR", "1")
    go = ("--pg", pg_url, "--auto-approve", "--allow-destructive")
    with psycopg.connect(pg_url, autocommit=True) as conn:  # the NOT NULL can hold
        conn.execute("UPDATE notes SET body = '' WHERE body IS NULL")
    a = run_cli("apply", "--schemas", "schemas", *go, cwd=tmp_path)
    assert a.code == 0, a.text
    assert "212 changes: showing a summary; `reconciler show " in a.out, a.out
    assert "pg.table.public.t_209" not in a.out and "Hazards by code" in a.out
    b = run_cli("rollback", "--last", *go, cwd=tmp_path)
    assert b.code == 0, b.text
    assert "changes: showing a summary; the versions' down files" in b.out, b.out
    assert "pg.table.public.t_209" not in b.out


def test_plan_sql_keeps_every_line_of_a_statement_under_its_change(pg_url, tmp_path):
    write_yaml(tmp_path, "schemas/tables/notes.yaml", NOTES)
    r = run_cli("plan", "--pg", pg_url, "--schemas", "schemas", "--sql", cwd=tmp_path)
    assert r.code == 0, r.text
    body = r.out.split("following actions:\n", 1)[1].split("\nPlan: ", 1)[0]
    sql = [x for x in body.splitlines() if x.strip() and not x.lstrip().startswith(("#", "+"))]
    assert len(sql) > 3 and any("CREATE TABLE" in x for x in sql), r.out
    assert all(x.startswith("          ") for x in sql), r.out  # under the change, not at 0
