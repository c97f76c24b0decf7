"""One hazard per decision: dropping a table does not repeat a hazard for every index,
constraint, foreign key or trigger that goes with it (its own drop says it all, with its row
count); a foreign key on a table that stays, which referenced it, keeps its own."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from tests.helpers import run_cli, write_yaml

ACCOUNTS = """\
table: accounts
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: email, type: text, nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
"""

TEAMS = """\
table: teams
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: name, type: text, nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
"""

# Three indexes, two foreign keys of its own, a check, a unique constraint.
ORDERS = """\
table: orders
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: account_id, type: uuid, nullable: false}
  - {name: team_id, type: uuid}
  - {name: number, type: bigint, nullable: false}
  - {name: total, type: numeric, nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
unique:
  - columns: [number]
checks:
  - {name: orders_total_check, expression: "total >= 0"}
foreign_keys:
  - {columns: [account_id], references: accounts}
  - {columns: [team_id], references: teams}
indexes:
  - columns: [account_id]
  - columns: [team_id]
  - columns: [created_at]
"""

# Another table that stays and references the dropped one.
REFUNDS = """\
table: refunds
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: order_id, type: uuid, nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
foreign_keys:
  - {columns: [order_id], references: orders}
"""

REFUNDS_NO_FK = REFUNDS.split("foreign_keys:")[0]


def _tree(root: Path, **tables: str) -> Path:
    for name, text in tables.items():
        write_yaml(root, f"tables/{name}.yaml", text)
    return root


def _plan(pg_url: str, cwd: Path, schemas: Path) -> dict:
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(schemas), "--json", cwd=cwd)
    assert r.code in (0, 2), r.text
    return json.loads(r.out)


def _setup(pg_url: str, tmp_path: Path) -> None:
    before = _tree(
        tmp_path / "before", accounts=ACCOUNTS, teams=TEAMS, orders=ORDERS, refunds=REFUNDS
    )
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(before), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO accounts (email) VALUES ('a@example.com')")
        conn.execute(
            "INSERT INTO orders (account_id, number, total) "
            "SELECT (SELECT id FROM accounts), g, g FROM generate_series(1, 7) g"
        )


def _hazards(p: dict) -> list[tuple[str, str]]:
    return [(c["address"], h["code"]) for c in p["changes"] for h in c["hazards"]]


def test_a_dropped_table_gives_one_hazard_not_one_per_index_and_key(pg_url, tmp_path):
    _setup(pg_url, tmp_path)
    after = _tree(tmp_path / "after", accounts=ACCOUNTS, teams=TEAMS, refunds=REFUNDS_NO_FK)
    for mode, says in (("drop", "all its rows"), ("auto", "reconciler_trash")):
        args = ("--pg", pg_url, "--schemas", str(after), "--drop-mode", mode)
        p = json.loads(run_cli("plan", *args, "--json", cwd=tmp_path).out)
        dropped = {c["address"] for c in p["changes"] if c["action"] == "drop"}
        # The indexes and foreign keys of orders are still dropped, in the plan's SQL …
        assert {
            "pg.index.public.idx_orders_account_id",
            "pg.index.public.idx_orders_team_id",
            "pg.index.public.idx_orders_created_at",
            "pg.constraint.public.orders.fk_orders_accounts",
            "pg.constraint.public.orders.fk_orders_teams",
        } <= dropped, dropped
        # … but one hazard says what the drop means: the table's; the foreign key of refunds
        # (a table that stays) is a decision of its own.
        assert _hazards(p) == [
            ("pg.constraint.public.refunds.fk_refunds_orders", "access_exclusive_lock"),
            ("pg.table.public.orders", "destructive"),
        ], mode
        table = next(c for c in p["changes"] if c["address"] == "pg.table.public.orders")
        assert says in table["hazards"][0]["message"]
        assert p["hazards"] == ["access_exclusive_lock", "destructive"]
        text = run_cli("plan", *args, cwd=tmp_path).out
        listed = text.split("Hazards (review before applying):")[1].split("Plan:")[0]
        assert [line.split()[2].rstrip(":") for line in listed.strip().splitlines()] == [
            "pg.constraint.public.refunds.fk_refunds_orders",
            "pg.table.public.orders",
        ], text
    # The table's drop still needs --allow-destructive, and takes its indexes along.
    r = run_cli(
        "apply",
        "--pg",
        pg_url,
        "--schemas",
        str(after),
        "--drop-mode",
        "drop",
        "--auto-approve",
        cwd=tmp_path,
    )
    assert r.code != 0 and "allow-destructive" in r.text, r.text
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone() == (True,)


def test_what_goes_from_a_table_that_stays_keeps_its_hazard(pg_url, tmp_path):
    _setup(pg_url, tmp_path)
    fewer = ORDERS.replace("  - columns: [created_at]\n", "").replace(
        "  - {columns: [team_id], references: teams}\n", ""
    )
    after = _tree(tmp_path / "after", accounts=ACCOUNTS, teams=TEAMS, orders=fewer, refunds=REFUNDS)
    p = json.loads(
        run_cli("plan", "--pg", pg_url, "--schemas", str(after), "--json", cwd=tmp_path).out
    )
    assert _hazards(p) == [
        ("pg.constraint.public.orders.fk_orders_teams", "access_exclusive_lock"),
    ]


def test_what_goes_with_a_dropped_column_adds_no_hazard(pg_url, tmp_path):
    _setup(pg_url, tmp_path)
    fewer = (
        ORDERS.replace("  - {name: team_id, type: uuid}\n", "")
        .replace("  - columns: [team_id]\n", "")
        .replace("  - {columns: [team_id], references: teams}\n", "")
        .replace("  - {name: total, type: numeric, nullable: false}\n", "")
        .replace('checks:\n  - {name: orders_total_check, expression: "total >= 0"}\n', "")
    )
    after = _tree(tmp_path / "after", accounts=ACCOUNTS, teams=TEAMS, orders=fewer, refunds=REFUNDS)
    args = ("plan", "--pg", pg_url, "--schemas", str(after), "--drop-mode", "drop")
    p = json.loads(run_cli(*args, "--json", cwd=tmp_path).out)
    dropped = {c["address"] for c in p["changes"] if c["action"] == "drop"}
    assert {
        "pg.constraint.public.orders.fk_orders_teams",
        "pg.constraint.public.orders.orders_total_check",
        "pg.index.public.idx_orders_team_id",
    } <= dropped, dropped
    # The columns' drops say it: their data goes, and what checked it with them.
    assert _hazards(p) == [
        ("pg.column.public.orders.total", "destructive"),
        ("pg.column.public.orders.team_id", "destructive"),
    ]


def test_a_constraint_reading_a_column_that_stays_keeps_its_hazard(pg_url, tmp_path):
    _setup(pg_url, tmp_path)
    both = ORDERS.replace('expression: "total >= 0"', 'expression: "total >= number"')
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DELETE FROM orders")
    before = _tree(tmp_path / "mid", accounts=ACCOUNTS, teams=TEAMS, orders=both, refunds=REFUNDS)
    r = run_cli("apply", "--pg", pg_url, "--schemas", str(before), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    fewer = both.replace("  - {name: total, type: numeric, nullable: false}\n", "").replace(
        'checks:\n  - {name: orders_total_check, expression: "total >= number"}\n', ""
    )
    after = _tree(tmp_path / "after", accounts=ACCOUNTS, teams=TEAMS, orders=fewer, refunds=REFUNDS)
    args = ("plan", "--pg", pg_url, "--schemas", str(after), "--drop-mode", "drop")
    p = json.loads(run_cli(*args, "--json", cwd=tmp_path).out)
    assert _hazards(p) == [
        ("pg.constraint.public.orders.orders_total_check", "access_exclusive_lock"),
        ("pg.column.public.orders.total", "destructive"),
    ]
