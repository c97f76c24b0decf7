"""Type changes with no cast between the types: a `using:` expression computes the new values;
a column with no value to convert is converted as NULL, checked again under the ALTER's lock;
values and no `using:` are refused at plan time, naming the column."""

from __future__ import annotations

from tests.helpers import run_cli, write_yaml

TABLE = """
table: events
columns:
  - {name: id, type: integer, nullable: false}
  - {name: at, type: TYPE USING}
primary_key: [id]
"""


def _tree(root, type_, using=""):
    text = TABLE.replace("TYPE", type_).replace(" USING", f", using: '{using}'" if using else "")
    write_yaml(root, "tables/events.yaml", text)


def _run(tmp, *args):
    return run_cli(*args, cwd=tmp)


def test_using_converts_values_that_have_no_cast(pg_url, pg_conn, tmp_path):
    root = tmp_path / "schemas"
    _tree(root, "bigint")
    assert (
        _run(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve").code == 0
    )
    pg_conn.execute("INSERT INTO events VALUES (1, 0), (2, 86400), (3, NULL)")

    _tree(root, "timestamptz")  # values and no `using:`: refused, nothing changed
    r = _run(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root))
    assert r.code == 1 and "cannot change type bigint → timestamp with time zone" in r.text
    assert "tables/events.yaml" in r.text

    _tree(root, "timestamptz", "to_timestamp(at)")
    r = _run(
        tmp_path,
        "apply",
        "--pg",
        pg_url,
        "--schemas",
        str(root),
        "--auto-approve",
        "--allow-destructive",
    )
    assert r.code == 0, r.text
    # no way back was written: the plan said so, and the rollback stops, changing nothing
    assert "the rollback converts back by a plain cast from timestamp with time zone" in r.text
    rows = pg_conn.execute(
        "SELECT id, extract(epoch FROM at)::bigint FROM events ORDER BY id"
    ).fetchall()
    assert rows == [(1, 0), (2, 86400), (3, None)]
    # the next plan compares types only: `using:` is how to get there, not a state
    assert "No changes." in _run(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    r = _run(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert r.code != 0
    assert "Rolling back would fail" in r.text and "cannot cast type" in r.text
    again = pg_conn.execute("SELECT count(*) FROM events WHERE at IS NOT NULL").fetchone()
    assert again == (2,)


def test_a_column_with_no_value_changes_to_a_type_with_no_cast_and_back(pg_url, pg_conn, tmp_path):
    root = tmp_path / "schemas"
    _tree(root, "bigint")
    assert (
        _run(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve").code == 0
    )
    pg_conn.execute("INSERT INTO events VALUES (1, NULL)")
    _tree(root, "timestamp")
    r = _run(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert r.code == 0, r.text
    assert pg_conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'events'::regclass AND attname = 'at'"
    ).fetchone() == ("timestamp without time zone",)

    pg_conn.execute("UPDATE events SET at = now()")  # a value the way back cannot convert
    r = _run(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert r.code != 0 and "at" in r.text
    assert pg_conn.execute("SELECT count(at) FROM events").fetchone() == (1,)  # kept

    pg_conn.execute("UPDATE events SET at = NULL")
    r = _run(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert r.code == 0, r.text
    assert pg_conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'events'::regclass AND attname = 'at'"
    ).fetchone() == ("bigint",)
