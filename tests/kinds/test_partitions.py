"""Declarative partitioning from YAML: partitioned tables and their partitions.

The round trips (create from empty, move a bound, add and drop partitions, against hand-written
SQL) are data-driven cases in tests/cases/partition_*; the corpus has two more. Here: what the
YAML refuses (file:line), that rows land where the bounds say, the server's spelling of
hand-written keys and bounds, and a table attached in place (a new partitioning is a rebuild:
tests/plan/test_rebuilds.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.desired import load
from reconciler.errors import InputError
from tests.helpers import run_cli, write_yaml

PARENT = """
table: events
columns:
  - {name: kind, type: text, nullable: false}
  - {name: at, type: date, nullable: false}
partition_by: list (kind)
"""


def _problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for rel, text in files.items():
        write_yaml(tmp_path, rel, text)
    with pytest.raises(InputError) as info:
        load(tmp_path)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("child", "expected"),
    [
        (
            "table: e1\npartition_of: events\n",
            "e1.yaml:2: partition_of: a partition needs a bound: FOR VALUES … or DEFAULT",
        ),
        (
            "table: e1\nbound: DEFAULT\n",
            "e1.yaml:2: bound: a bound is for a partition: add partition_of",
        ),
        (
            "table: e1\npartition_of: events\nbound: FROM (1) TO (2)\n",
            "e1.yaml:3: bound: invalid partition bound 'FROM (1) TO (2)'",
        ),
        (
            "table: e1\npartition_of: events\nbound: \"FOR VALUES IN ('a')); DROP TABLE x; --\"\n",
            "e1.yaml:3: bound: unbalanced parentheses in the partition bound",
        ),
        (
            "table: e1\npartition_of: events\nbound: DEFAULT PARTITION BY LIST (at)\n",
            "e1.yaml:3: bound: the partition bound 'DEFAULT PARTITION BY LIST (at)' must be "
            "FOR VALUES … or DEFAULT",
        ),
        (
            "table: e1\npartition_of: events\nbound: DEFAULT\n"
            "columns:\n  - {name: x, type: integer}\n",
            "e1.yaml:5: columns: a partition's columns are its parent's: list none",
        ),
        (
            "table: e1\npartition_of: nowhere\nbound: DEFAULT\n",
            "e1.yaml:2: partition_of: table 'public.nowhere' is not declared",
        ),
        (
            "table: e1\npartition_of: plain\nbound: DEFAULT\n",
            "e1.yaml:2: partition_of: table 'public.plain' is not partitioned: give it "
            "partition_by",
        ),
    ],
)
def test_malformed_partitions_are_refused_with_file_and_line(
    tmp_path: Path, child: str, expected: str
) -> None:
    files = {
        "events.yaml": PARENT,
        "plain.yaml": "table: plain\ncolumns: [{name: id, type: integer}]\n",
        "e1.yaml": child,
    }
    problems = _problems(tmp_path, files)
    assert any(f"/{expected}" in p for p in problems), problems


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("range (nope)", "the partition key names no column 'nope' of this table"),
        ("RANGE (at) WITH (fillfactor = 10)", "must be exactly that clause"),
        ("SPREAD (at)", "invalid partition key"),
        ("LIST (kind); DROP TABLE events", "';' is not allowed in the partition key"),
    ],
)
def test_malformed_partition_keys_are_refused(tmp_path: Path, key: str, expected: str) -> None:
    text = PARENT.replace("partition_by: list (kind)", f"partition_by: {key}")
    problems = _problems(tmp_path, {"events.yaml": text})
    assert any("events.yaml:6: partition_by:" in p and expected in p for p in problems), problems


def _cli(tmp: Path, *args: str):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def _apply(tmp: Path, url: str, root: Path) -> None:
    _cli(tmp, "apply", "--pg", url, "--schemas", str(root), "--auto-approve")


def test_rows_land_in_the_partition_their_bound_names(pg_url, pg_conn, tmp_path) -> None:
    root = tmp_path / "schemas"
    write_yaml(root, "events.yaml", PARENT)
    write_yaml(root, "e_click.yaml", "table: e_click\npartition_of: events\nbound: IN ('click')")
    # a bound without FOR VALUES is refused; the file above fixes it below
    assert run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path).code == 1
    write_yaml(
        root,
        "e_click.yaml",
        "table: e_click\npartition_of: events\nbound: for values in ( 'click' )",
    )
    write_yaml(root, "e_rest.yaml", "table: e_rest\npartition_of: events\nbound: default")
    _apply(tmp_path, pg_url, root)
    pg_conn.execute("INSERT INTO events VALUES ('click', '2026-01-01'), ('view', '2026-01-02')")
    rows = pg_conn.execute(
        "SELECT tableoid::regclass::text, kind FROM events ORDER BY kind"
    ).fetchall()
    assert rows == [("e_click", "click"), ("e_rest", "view")]
    # the hand-written spellings converge on the server's
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out


def test_moving_rows_out_of_a_default_partition_is_the_servers_check(
    pg_url, pg_conn, tmp_path, pg_dump_schema
) -> None:
    """A new partition whose bound holds rows of the default partition: the server refuses
    the apply, and nothing of the plan is left behind."""
    root = tmp_path / "schemas"
    write_yaml(root, "events.yaml", PARENT)
    write_yaml(root, "e_rest.yaml", "table: e_rest\npartition_of: events\nbound: DEFAULT")
    _apply(tmp_path, pg_url, root)
    pg_conn.execute("INSERT INTO events VALUES ('view', '2026-01-02')")
    before = pg_dump_schema(pg_url)
    write_yaml(
        root, "e_view.yaml", "table: e_view\npartition_of: events\nbound: FOR VALUES IN ('view')"
    )
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve", cwd=tmp_path)
    assert r.code != 0
    assert "default partition" in r.text
    assert pg_dump_schema(pg_url) == before
    assert pg_conn.execute("SELECT count(*) FROM e_rest").fetchone() == (1,)


def test_a_table_becomes_a_partition_in_place_and_back(pg_url, pg_conn, tmp_path) -> None:
    root = tmp_path / "schemas"
    write_yaml(root, "events.yaml", PARENT)
    columns = "[{name: kind, type: text, nullable: false}, {name: at, type: date, nullable: false}]"
    write_yaml(root, "loose.yaml", f"table: loose\ncolumns: {columns}")
    _apply(tmp_path, pg_url, root)
    pg_conn.execute("INSERT INTO public.loose VALUES ('x', '2026-01-01')")
    write_yaml(root, "loose.yaml", "table: loose\npartition_of: events\nbound: DEFAULT")
    r = _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert "partition_of" in r.text
    part = "SELECT count(*) FROM pg_catalog.pg_inherits WHERE inhrelid = 'public.loose'::regclass"
    assert pg_conn.execute(part).fetchone() == (1,)
    assert pg_conn.execute("SELECT count(*) FROM public.events").fetchone() == (1,)
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_conn.execute(part).fetchone() == (0,)
    assert pg_conn.execute("SELECT count(*) FROM public.loose").fetchone() == (1,)


def test_plan_json_shows_the_bound_change(pg_url, tmp_path) -> None:
    root = tmp_path / "schemas"
    write_yaml(root, "events.yaml", PARENT)
    write_yaml(root, "e1.yaml", "table: e1\npartition_of: events\nbound: FOR VALUES IN ('a')")
    _apply(tmp_path, pg_url, root)
    write_yaml(root, "e1.yaml", "table: e1\npartition_of: events\nbound: FOR VALUES IN ('a', 'b')")
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    (change,) = json.loads(r.out)["changes"]
    assert change["address"] == "pg.table.public.e1"
    bound = next(d for d in change["details"] if d["attribute"] == "bound")
    assert bound == {
        "attribute": "bound",
        "old": "FOR VALUES IN ('a')",
        "new": "FOR VALUES IN ('a', 'b')",
    }


def test_attached_index_names_and_not_null_name_what_the_parent_has(pg_url, tmp_path) -> None:
    root = tmp_path / "schemas"
    write_yaml(root, "events.yaml", PARENT + "indexes: [{name: events_at, columns: [at]}]\n")
    part = "table: e1\npartition_of: events\nbound: FOR VALUES IN ('a')\n"
    write_yaml(root, "e1.yaml", part + "attached_indexes: {events_at: e1_at}\nnot_null: [at]")
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root))
    write_yaml(root, "e1.yaml", part + "attached_indexes: {events_when: e1_at}\nnot_null: [when]")
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code != 0
    assert "attached_indexes names no index or key 'events_when' of 'public.events'" in r.text
    assert "not_null names no column 'when' of table 'public.events'" in r.text
    write_yaml(root, "loose.yaml", "table: loose\ncolumns: [{name: a, type: text}]\nnot_null: [a]")
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert "not_null is for a partition: add partition_of" in r.text


def test_partitions_moving_to_a_new_parent_lose_nothing_either_way(pg_url, pg_conn, tmp_path):
    """The old parent is dropped once its partitions moved to the new one: the plan does not
    call that a loss of rows, and neither the apply nor the rollback needs
    --allow-destructive; every row stays where it was."""
    root = tmp_path / "schemas"
    write_yaml(root, "events.yaml", PARENT)
    write_yaml(root, "e1.yaml", "table: e1\npartition_of: events\nbound: FOR VALUES IN ('a')")
    _apply(tmp_path, pg_url, root)
    pg_conn.execute("INSERT INTO events VALUES ('a', '2026-01-01'), ('a', '2026-01-02')")
    (root / "events.yaml").unlink()
    write_yaml(root, "events_v2.yaml", PARENT.replace("table: events", "table: events_v2"))
    write_yaml(root, "e1.yaml", "table: e1\npartition_of: events_v2\nbound: FOR VALUES IN ('a')")
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    drop = next(c for c in json.loads(r.out)["changes"] if c["address"] == "pg.table.public.events")
    assert "destructive" not in {h["code"] for h in drop["hazards"]}
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute("SELECT count(*) FROM events_v2").fetchone() == (2,)
    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_conn.execute("SELECT count(*) FROM events").fetchone() == (2,)
    assert pg_conn.execute("SELECT to_regclass('public.events_v2')").fetchone() == (None,)
