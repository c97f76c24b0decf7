"""Views and materialized views from YAML: created in dependency order, rebuilt around the
column changes Postgres refuses under them, rolled back exactly, and their queries checked."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from tests.helpers import run_cli, write_yaml

TABLE = """
table: users
schema: app
columns:
  - {name: id, type: integer, nullable: false}
  - {name: email, type: "varchar(100)"}
  - {name: age, type: integer}
primary_key: [id]
"""

VIEWS = """
views:
  - name: adults
    schema: app
    comment: Users of age.
    query: SELECT id, email FROM app.users WHERE age >= 18
  - name: adult_count
    schema: app
    query: SELECT count(*) AS n FROM app.adults
  - name: emails
    schema: app
    materialized: true
    query: SELECT id, lower(email) AS email FROM app.users
    indexes:
      - {name: idx_emails_email, columns: [email], unique: true}
"""


def _tree(root: Path, email_type: str = "varchar(100)") -> Path:
    write_yaml(root, "tables/users.yaml", TABLE.replace("varchar(100)", email_type))
    write_yaml(root, "views/app.yaml", VIEWS)
    return root


def _cli(tmp: Path, *args: str):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def _views(conn: psycopg.Connection) -> dict[str, str]:
    rows = conn.execute(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'app' AND c.relkind IN ('v', 'm', 'i') ORDER BY 1"
    ).fetchall()
    return dict(rows)


def test_views_are_created_in_order_and_replan_clean(pg_url, pg_conn, tmp_path):
    root = _tree(tmp_path / "schemas")
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [c["address"] for c in json.loads(r.out)["changes"]]
    # the table before the views, a view before the view reading it, the matview before its index
    assert order.index("pg.table.app.users") < order.index("pg.view.app.adults")
    assert order.index("pg.view.app.adults") < order.index("pg.view.app.adult_count")
    assert order.index("pg.materialized_view.app.emails") < order.index(
        "pg.index.app.idx_emails_email"
    )
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert _views(pg_conn) == {
        "adult_count": "v",
        "adults": "v",
        "emails": "m",
        "idx_emails_email": "i",
        "users_pkey": "i",
    }
    comment = pg_conn.execute("SELECT obj_description('app.adults'::regclass)").fetchone()
    assert comment == ("Users of age.",)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root))
    assert "No changes." in r.out  # the server's spelling of each query was asked for


def test_a_column_retyped_under_views_rebuilds_them_and_rolls_back(
    pg_url, pg_conn, tmp_path, pg_dump_schema
):
    root = _tree(tmp_path / "schemas")
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    pg_conn.execute("INSERT INTO app.users VALUES (1, 'A@x.org', 30)")
    pg_conn.execute("REFRESH MATERIALIZED VIEW app.emails")
    before = pg_dump_schema(pg_url)

    _tree(root, email_type="varchar(300)")
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    plan = json.loads(r.out)
    steps = [(c["action"], c["address"]) for c in plan["changes"]]
    alter = steps.index(("change", "pg.column.app.users.email"))
    for view in (
        "pg.view.app.adults",
        "pg.view.app.adult_count",
        "pg.materialized_view.app.emails",
    ):
        assert steps.index(("drop", view)) < alter < steps.index(("create", view)), steps
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    assert pg_conn.execute("SELECT email FROM app.emails").fetchall() == [("a@x.org",)]
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out

    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_a_view_query_must_be_one_select(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(root, "tables/users.yaml", TABLE)
    write_yaml(
        root,
        "views/bad.yaml",
        "views:\n"
        "  - name: sneaky\n"
        "    query: SELECT 1; DROP TABLE app.users\n"
        "  - name: writer\n"
        "    query: DELETE FROM app.users\n"
        "  - name: indexed\n"
        "    query: SELECT 1 AS one\n"
        "    indexes: [{columns: [one]}]\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1
    assert "views/bad.yaml:3" in r.err and "';' is not allowed" in r.err
    assert "views/bad.yaml:5" in r.err and "exactly one SELECT" in r.err
    assert "views/bad.yaml:8" in r.err and "only a materialized view can have indexes" in r.err


GUARDED = """
table: accounts
columns:
  - {name: id, type: integer}
  - {name: owner, type: text}
views:
  - name: mine
    query: SELECT id FROM public.accounts WHERE owner = current_user
    options: OPTIONS
    column_comments: COMMENTS
"""


def _guarded(root: Path, options: str, comments: str) -> None:
    write_yaml(root, "t.yaml", GUARDED.replace("OPTIONS", options).replace("COMMENTS", comments))


def test_view_options_and_column_comments_change_in_place(pg_url, pg_conn, tmp_path):
    root = tmp_path / "schemas"
    _guarded(root, "{security_barrier: true}", "{id: The account.}")
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    oid = pg_conn.execute("SELECT 'public.mine'::regclass::oid").fetchone()[0]
    state = (
        "SELECT reloptions, col_description(oid, 1) FROM pg_class "
        "WHERE oid = 'public.mine'::regclass"
    )
    assert pg_conn.execute(state).fetchone() == (["security_barrier=true"], "The account.")

    _guarded(root, "{security_invoker: true, check_option: local}", "{}")
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    changes = json.loads(r.out)["changes"]
    assert {c["action"] for c in changes} == {"change"}  # no drop, no create
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    options, comment = pg_conn.execute(state).fetchone()
    assert sorted(options) == ["check_option=local", "security_invoker=true"] and comment is None
    assert pg_conn.execute("SELECT 'public.mine'::regclass::oid").fetchone()[0] == oid
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out

    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_conn.execute(state).fetchone() == (["security_barrier=true"], "The account.")


def test_view_options_must_be_plain(pg_url, tmp_path):
    root = tmp_path / "schemas"
    _guarded(root, "{'x) AS SELECT 1; --': true, check_option: 'local) AS SELECT 2 --'}", "{}")
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "is not an option name" in r.err
    assert "'local) AS SELECT 2 --' is not a plain option value" in r.err
