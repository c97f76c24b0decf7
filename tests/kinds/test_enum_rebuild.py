"""Enum values removed or reordered, and added values rolled back: the type is rebuilt.

The schema-level round trips are data-driven (tests/cases/enum_value_*, the corpus); here the
rows: they survive a rebuild with their values, a row holding a removed value stops the apply
with nothing changed, a rollback of an added value that rows now hold is refused the same way,
and a type that a domain uses is refused at plan time with a sentence.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_cli, write_yaml

TYPES = """
enums:
  - name: stage
    values: [{values}]
"""

TABLE = """
table: tasks
columns:
  - {name: id, type: integer, nullable: false}
  - {name: s, type: stage, nullable: false, default: "'draft'"}
  - {name: trail, type: "stage[]"}
primary_key: [id]
"""


def _write(root: Path, values: str) -> None:
    write_yaml(root, "types.yaml", TYPES.replace("{values}", values))
    write_yaml(root, "tasks.yaml", TABLE)


def _apply(tmp: Path, url: str, root: Path, *extra: str):
    return run_cli("apply", "--pg", url, "--schemas", str(root), "--auto-approve", *extra, cwd=tmp)


def _labels(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT unnest(enum_range(NULL::stage))::text").fetchall()]


def test_rows_keep_their_values_through_a_removal_and_a_reorder(pg_url, pg_conn, tmp_path):
    root = tmp_path / "schemas"
    _write(root, "draft, legacy, review, done")
    assert _apply(tmp_path, pg_url, root).code == 0
    pg_conn.execute(
        "INSERT INTO tasks VALUES (1, 'done', '{draft,done}'), (2, 'review', NULL), "
        "(3, 'draft', '{}')"
    )
    _write(root, "done, review, draft")  # legacy gone, the rest in a new order

    r = _apply(tmp_path, pg_url, root)

    assert r.code == 0, r.text
    assert _labels(pg_conn) == ["done", "review", "draft"]
    rows = pg_conn.execute("SELECT id, s::text, trail::text FROM tasks ORDER BY tasks.s").fetchall()
    assert rows == [(1, "done", "{draft,done}"), (2, "review", None), (3, "draft", "{}")]
    pg_conn.execute("INSERT INTO tasks (id) VALUES (4)")  # the default survived the retype
    assert pg_conn.execute("SELECT s::text FROM tasks WHERE id = 4").fetchone() == ("draft",)
    types = pg_conn.execute("SELECT typname FROM pg_type WHERE typname LIKE 'reconciler%'")
    assert types.fetchall() == []  # the parked old type is gone
    plan = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert "No changes." in plan.out, plan.text


def test_a_row_holding_a_removed_value_stops_the_apply_and_changes_nothing(
    pg_url, pg_conn, tmp_path, pg_dump_schema
):
    root = tmp_path / "schemas"
    _write(root, "draft, legacy, done")
    assert _apply(tmp_path, pg_url, root).code == 0
    pg_conn.execute("INSERT INTO tasks VALUES (1, 'legacy', '{legacy}')")
    before = pg_dump_schema(pg_url)
    _write(root, "draft, done")

    r = _apply(tmp_path, pg_url, root)

    assert r.code != 0
    assert "legacy" in r.text
    assert pg_dump_schema(pg_url) == before
    assert _labels(pg_conn) == ["draft", "legacy", "done"]
    row = pg_conn.execute("SELECT s::text, trail::text FROM tasks").fetchone()
    assert row == ("legacy", "{legacy}")


def test_rolling_back_an_added_value_rows_now_hold_is_refused_by_the_server(
    pg_url, pg_conn, tmp_path
):
    root = tmp_path / "schemas"
    _write(root, "draft, done")
    assert _apply(tmp_path, pg_url, root).code == 0
    _write(root, "draft, review, done")
    assert _apply(tmp_path, pg_url, root).code == 0
    pg_conn.execute("INSERT INTO tasks VALUES (1, 'review', NULL)")

    r = run_cli("rollback", "--pg", pg_url, "--last", "--auto-approve", cwd=tmp_path)

    assert r.code != 0
    assert "review" in r.text
    assert _labels(pg_conn) == ["draft", "review", "done"]
    assert pg_conn.execute("SELECT s::text FROM tasks").fetchone() == ("review",)

    pg_conn.execute("DELETE FROM tasks")
    r = run_cli("rollback", "--pg", pg_url, "--last", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    assert _labels(pg_conn) == ["draft", "done"]


def test_a_type_a_domain_uses_is_not_rebuilt(pg_url, pg_conn, tmp_path):
    root = tmp_path / "schemas"
    _write(root, "draft, legacy, done")
    write_yaml(root, "domains.yaml", "domains:\n  - {name: current_stage, type: stage}\n")
    assert _apply(tmp_path, pg_url, root).code == 0
    _write(root, "draft, done")

    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)

    assert r.code != 0
    assert (
        "Enum public.stage: removing or reordering values (draft, legacy, done → draft, done) "
        "means rebuilding the type, and domain public.current_stage uses it."
    ) in r.text
    # adding a value is still possible; its rollback then cannot rebuild the type
    _write(root, "draft, legacy, done, archived")
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), "--json", cwd=tmp_path)
    assert r.code == 0, r.text
    assert '"irreversible"' in r.out
