"""What docs/yaml-reference.md says of the `columns` order, on a real server: the YAML's order
is the order of a new table's columns; a later reorder is never planned (Postgres cannot
reorder columns in place) and plan and drift report it as a `column_order` finding."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

pytestmark = pytest.mark.servers

TABLE = """\
table: notes
columns:
{cols}
primary_key: [id]
"""
ID = "  - {name: id, type: bigint}"
BODY = "  - {name: body, type: text}"
AT = "  - {name: at, type: timestamptz}"


def _columns(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'public.notes'::regclass"
            " AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        ).fetchall()
    return [r[0] for r in rows]


def test_a_reordered_yaml_is_a_finding_not_a_change(tmp_path: Path, pg_url: str) -> None:
    write_yaml(tmp_path, "schemas/notes.yaml", TABLE.format(cols="\n".join([ID, AT, BODY])))
    pg = ("--pg", pg_url, "--schemas", "schemas")
    r = run_cli("apply", *pg, "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    assert _columns(pg_url) == ["id", "at", "body"]  # a new table: the YAML's order

    write_yaml(tmp_path, "schemas/notes.yaml", TABLE.format(cols="\n".join([ID, BODY, AT])))
    r = run_cli("plan", *pg, "--detailed-exitcode", cwd=tmp_path)
    assert r.code == 0, r.text  # nothing to change
    assert "No changes." in r.text
    assert "stay in their order (id, at, body), not the YAML's (id, body, at)" in r.text

    # drift compares what the columns are, not where they sit: no drift.
    r = run_cli("drift", *pg, cwd=tmp_path)
    assert r.code == 0, r.text
    assert "No drift" in r.text
    assert _columns(pg_url) == ["id", "at", "body"]

    # a column added in the middle of the list goes at the end, and the plan says so.
    write_yaml(tmp_path, "schemas/notes.yaml", TABLE.format(cols="\n".join([ID, BODY, AT])))
    cols = "\n".join([ID, "  - {name: title, type: text}", AT, BODY])
    write_yaml(tmp_path, "schemas/notes.yaml", TABLE.format(cols=cols))
    r = run_cli("apply", *pg, "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    assert _columns(pg_url) == ["id", "at", "body", "title"]


def test_the_reference_says_what_the_server_does() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "yaml-reference.md").read_text()
    columns = page.split("### `columns`", 1)[1].split("```", 1)[0]
    assert "physical column order" not in columns.replace("\n", " ")
    assert "`column_order`" in columns and "drift" in columns
