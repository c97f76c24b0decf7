"""Phased column changes on large tables: expand → backfill → contract, one plan each."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psycopg

from reconciler.plan.files import read_plan
from tests.helpers import run_cli, write_yaml

ROWS = 5_000


def _orders(
    *, amount: str = "integer", title: str = "title", large: str = "true", extra: str = ""
) -> str:
    return f"""\
table: orders
large: {large}
columns:
  - {{name: id, type: uuid, nullable: false, default: gen_random_uuid()}}
  - {{name: amount, type: {amount}, nullable: false, default: "0"}}
  - {{name: {title}, type: text{", renamed_from: title" if title != "title" else ""}}}
  - {{name: created_at, type: timestamptz, nullable: false, default: now()}}
  - {{name: updated_at, type: timestamptz, nullable: false, default: now()}}
primary_key: [id]
indexes:
  - {{name: orders_amount_idx, columns: [amount]}}
"""


def _schemas(root: Path, text: str) -> Path:
    write_yaml(root, "tables/orders.yaml", text)
    return root


def _apply(url: str, schemas: Path, cwd: Path, *flags: str):
    return run_cli(
        "apply", "--pg", url, "--schemas", str(schemas), "--auto-approve", *flags, cwd=cwd
    )


def _one(url: str, query: str):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query).fetchone()


def _columns(url: str) -> list[tuple[str, str, bool]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            "WHERE attrelid = 'orders'::regclass AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum"
        ).fetchall()


def _loaded(pg_url: str, tmp_path: Path) -> None:
    r = _apply(pg_url, _schemas(tmp_path / "v1", _orders()), tmp_path)
    assert r.code == 0, r.text
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO orders (amount, title) SELECT g, 'order ' || g "
            f"FROM generate_series(1, {ROWS}) g"
        )


def _last_plan(cwd: Path):
    return read_plan(sorted((cwd / "plans").glob("*.plan.json"))[-1])


class Writer(threading.Thread):
    def __init__(self, url: str, statement: str) -> None:
        super().__init__(daemon=True)
        self.url, self.statement = url, statement
        self.stop = threading.Event()
        self.done = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                while not self.stop.is_set():
                    conn.execute(self.statement)
                    self.done += 1
        except BaseException as exc:
            self.error = exc


def test_type_change_goes_through_three_plans_and_loses_no_row(pg_url, tmp_path):
    _loaded(pg_url, tmp_path)
    v2 = _schemas(tmp_path / "v2", _orders(amount="bigint"))
    writer = Writer(pg_url, "INSERT INTO orders (amount, title) VALUES (7, 'live')")
    writer.start()
    phases = []
    try:
        for _ in range(3):
            r = _apply(pg_url, v2, tmp_path)
            assert r.code == 0, r.text
            phases.append([c.description for c in _last_plan(tmp_path).changes])
            if len(phases) == 1:  # between expand and backfill: both columns, the new one kept
                time.sleep(0.2)  # in step for new rows by the trigger
    finally:
        writer.stop.set()
        writer.join(10)
    assert writer.error is None, writer.error
    assert phases == [
        ["type integer → bigint, phase 1 of 3 (expand)"],
        ["type integer → bigint, phase 2 of 3 (backfill)"],
        ["type integer → bigint, phase 3 of 3 (contract)"],
    ]
    names = [c[0] for c in _columns(pg_url)]
    assert names.count("amount") == 1 and not any("__new_" in n for n in names)
    assert ("amount", "bigint", True) in _columns(pg_url)
    total = ROWS + writer.done
    assert _one(
        pg_url, "SELECT count(*), sum(amount) FILTER (WHERE title <> 'live') FROM orders"
    ) == (total, ROWS * (ROWS + 1) // 2)
    assert (
        _one(pg_url, "SELECT count(*) FROM orders WHERE title = 'live' AND amount = 7")[0]
        == writer.done
    )
    index = _one(pg_url, "SELECT pg_get_indexdef('orders_amount_idx'::regclass)")[0]
    assert "(amount)" in index
    default = (
        "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid "
        "= d.adrelid AND a.attnum = d.adnum WHERE a.attrelid = 'orders'::regclass "
        "AND a.attname = 'amount'"
    )
    assert _one(pg_url, default)[0] == "0"
    assert (
        _one(pg_url, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass")[0] == 0
    )
    again = run_cli(
        "plan", "--pg", pg_url, "--schemas", str(v2), "--detailed-exitcode", cwd=tmp_path
    )
    assert again.code == 0, again.text


def test_rename_keeps_old_and_new_clients_in_step_until_the_contract(pg_url, tmp_path):
    _loaded(pg_url, tmp_path)
    v2 = _schemas(tmp_path / "v2", _orders(title="headline"))
    r = _apply(pg_url, v2, tmp_path)
    assert r.code == 0, r.text
    with psycopg.connect(pg_url, autocommit=True) as conn:  # an old and a new client
        conn.execute("INSERT INTO orders (amount, title) VALUES (1, 'old client')")
        conn.execute("INSERT INTO orders (amount, headline) VALUES (2, 'new client')")
        conn.execute("UPDATE orders SET title = 'renamed by old' WHERE amount = 5")
    assert _one(pg_url, "SELECT headline FROM orders WHERE title = 'old client'")[0] == "old client"
    assert _one(pg_url, "SELECT title FROM orders WHERE headline = 'new client'")[0] == "new client"
    assert _one(pg_url, "SELECT headline FROM orders WHERE amount = 5")[0] == "renamed by old"
    # a plan in between shows the backfill as the only change: the table's other changes wait
    mid = run_cli("plan", "--pg", pg_url, "--schemas", str(v2), "--json", cwd=tmp_path)
    assert [c["description"] for c in json.loads(mid.out)["changes"]] == [
        "rename title → headline, phase 2 of 3 (backfill)"
    ]
    for _ in range(2):
        r = _apply(pg_url, v2, tmp_path)
        assert r.code == 0, r.text
    names = [c[0] for c in _columns(pg_url)]
    assert "title" not in names and "headline" in names
    assert _one(pg_url, "SELECT count(*) FROM orders WHERE headline IS NULL")[0] == 0
    assert _one(pg_url, "SELECT headline FROM orders WHERE amount = 10")[0] == "order 10"
    again = run_cli(
        "plan", "--pg", pg_url, "--schemas", str(v2), "--detailed-exitcode", cwd=tmp_path
    )
    assert again.code == 0, again.text


def test_size_threshold_and_large_false(pg_url, tmp_path):
    _loaded(pg_url, tmp_path)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ANALYZE orders")
    unset = _schemas(tmp_path / "unset", _orders(amount="bigint", large="null"))
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(unset), "--json", "--large-rows", "1000",
                cwd=tmp_path)  # fmt: skip
    assert r.code == 0, r.text
    assert "phase 1 of 3" in json.loads(r.out)["changes"][0]["description"]
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(unset), "--json", cwd=tmp_path)
    assert "phase" not in json.loads(r.out)["changes"][0]["description"]  # 5,000 < 1,000,000
    off = _schemas(tmp_path / "off", _orders(amount="bigint", large="false"))
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(off), "--json", "--large-rows", "1",
                cwd=tmp_path)  # fmt: skip
    change = json.loads(r.out)["changes"][0]
    assert change["description"] == "type integer → bigint"
    assert "table_rewrite" in {h["code"] for h in change["hazards"]}


def test_a_move_a_view_depends_on_is_refused_in_one_sentence(pg_url, tmp_path):
    _loaded(pg_url, tmp_path)
    view = (
        "views:\n  - name: big_orders\n    query: SELECT id, amount FROM orders WHERE amount > 9\n"
    )
    write_yaml(tmp_path / "v1", "views.yaml", view)
    assert _apply(pg_url, tmp_path / "v1", tmp_path).code == 0
    v2 = _schemas(tmp_path / "v2", _orders(amount="bigint"))
    write_yaml(v2, "views.yaml", view)
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(v2), cwd=tmp_path)
    assert r.code == 1
    assert (
        "cannot change in phases (type integer → bigint): view big_orders reads the table" in r.err
    )
    assert "large: false" in r.err


def test_a_move_dropped_from_the_yaml_midway_is_abandoned(pg_url, tmp_path):
    _loaded(pg_url, tmp_path)
    v1, v2 = tmp_path / "v1", _schemas(tmp_path / "v2", _orders(amount="bigint"))
    assert _apply(pg_url, v2, tmp_path).code == 0  # expand
    assert len(_columns(pg_url)) == 6
    r = _apply(pg_url, v1, tmp_path)
    assert r.code == 0, r.text
    assert "abandon the unfinished type integer → bigint" in [
        c.description for c in _last_plan(tmp_path).changes
    ]
    assert [c[0] for c in _columns(pg_url)] == ["id", "amount", "title", "created_at", "updated_at"]
    assert (
        _one(pg_url, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass")[0] == 0
    )
    again = run_cli(
        "plan", "--pg", pg_url, "--schemas", str(v1), "--detailed-exitcode", cwd=tmp_path
    )
    assert again.code == 0, again.text


def test_a_rename_and_a_retype_at_once_are_refused(pg_url, tmp_path):
    _loaded(pg_url, tmp_path)
    both = _orders(title="headline").replace(
        "{name: headline, type: text, renamed_from: title}",
        "{name: headline, type: varchar(20), renamed_from: title}",
    )
    assert "varchar(20)" in both
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(_schemas(tmp_path / "v2", both)),
                cwd=tmp_path)  # fmt: skip
    assert r.code == 1
    assert "it is renamed and retyped at once (make one change, then the other)" in r.err


def test_a_move_of_a_column_owning_a_sequence_is_refused(pg_url, tmp_path):
    _loaded(pg_url, tmp_path)
    owned = "sequences:\n  - {name: amount_nos, owned_by: orders.amount}\n"
    write_yaml(tmp_path / "v1", "sequences.yaml", owned)
    assert _apply(pg_url, tmp_path / "v1", tmp_path).code == 0
    v2 = _schemas(tmp_path / "v2", _orders(amount="bigint"))
    write_yaml(v2, "sequences.yaml", owned)
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(v2), cwd=tmp_path)
    assert r.code == 1, r.text
    # the contract's drop of the old column would drop the sequence with it
    assert "cannot change in phases (type integer → bigint): it owns sequence amount_nos" in r.err


def test_rows_written_during_a_phased_change_convert_as_the_backfill_does(pg_url, tmp_path):
    """The trigger that keeps the new column in step converts a row written meanwhile under
    the apply's settings (TimeZone UTC), as the backfill converts the others: a writer whose
    session is in another zone gets the same date for the same instant."""
    _loaded(pg_url, tmp_path)
    instant = "'2024-01-01 08:00:00+09'"  # 2023-12-31 in UTC, 2024-01-01 in Tokyo
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"UPDATE orders SET created_at = {instant}")
        database = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f"ALTER DATABASE \"{database}\" SET timezone = 'Asia/Tokyo'")
    retyped = _orders().replace("created_at, type: timestamptz", "created_at, type: date")
    v2 = _schemas(tmp_path / "v2", retyped)
    for phase in range(3):
        r = _apply(pg_url, v2, tmp_path, "--allow-destructive")
        assert r.code == 0, r.text
        if phase == 1:  # backfilled: a writer in its own zone, kept in step by the trigger
            with psycopg.connect(pg_url, autocommit=True) as conn:
                assert conn.execute("SHOW timezone").fetchone()[0] == "Asia/Tokyo"
                conn.execute(f"INSERT INTO orders (amount, created_at) VALUES (1, {instant})")
    assert ("created_at", "date", True) in _columns(pg_url)
    dates = _one(pg_url, "SELECT array_agg(DISTINCT created_at::text) FROM orders")[0]
    assert dates == ["2023-12-31"]


def test_a_rollback_of_the_contract_is_refused_and_changes_nothing(pg_url, tmp_path):
    """The contract drops the old column: no down file brings it back, so rolling that version
    back is refused in one sentence (it used to record the version rolled back while the
    column stayed, and drop a check the plan had put back on the new column)."""
    _loaded(pg_url, tmp_path)
    check = "checks:\n  - {name: amount_pos, expression: amount >= 0}\n"
    r = _apply(pg_url, _schemas(tmp_path / "v1c", _orders() + check), tmp_path)
    assert r.code == 0, r.text
    v2 = _schemas(tmp_path / "v2", _orders(amount="bigint") + check)
    for _ in range(3):
        r = _apply(pg_url, v2, tmp_path)
        assert r.code == 0, r.text
    assert "(contract)" in _last_plan(tmp_path).changes[0].description
    checks = "SELECT count(*) FROM pg_constraint WHERE conname = 'amount_pos' AND convalidated"

    def now() -> tuple:
        history = run_cli("state", "history", "--pg", pg_url, "--json", cwd=tmp_path).out
        return _columns(pg_url), _one(pg_url, checks), history

    before = now()
    assert before[1] == (1,)
    argv = ("rollback", "--pg", pg_url, "--last", "--auto-approve")
    for flags in ((), ("--force",)):
        back = run_cli(*argv, *flags, cwd=tmp_path)
        assert back.code == 1, back.text
        assert "cannot be rolled back" in back.err and "amount (integer)" in back.err, back.text
        assert now() == before


def test_a_type_change_asked_for_during_a_backfill_starts_its_own_phases_after_the_contract(
    pg_url, tmp_path
):
    """A rename under way (expanded, backfilled) and then, in the YAML, a type change that
    rewrites the table: the contract does not carry it as one ALTER under an exclusive lock
    (which the contract would then make impossible to roll back); it starts its own expand in
    the plan after, as any move on a large table does."""
    _loaded(pg_url, tmp_path)
    renamed = _schemas(tmp_path / "v2", _orders(title="label"))
    for _ in range(2):  # expand, backfill
        r = _apply(pg_url, renamed, tmp_path)
        assert r.code == 0, r.text
    both = _schemas(tmp_path / "v3", _orders(title="label", amount="bigint"))
    phases = []
    for _ in range(4):
        r = _apply(pg_url, both, tmp_path)
        assert r.code == 0, r.text
        phases.append([c.description for c in _last_plan(tmp_path).changes])
    assert phases[0] == ["rename title → label, phase 3 of 3 (contract)"], phases
    assert phases[1:] == [
        ["type integer → bigint, phase 1 of 3 (expand)"],
        ["type integer → bigint, phase 2 of 3 (backfill)"],
        ["type integer → bigint, phase 3 of 3 (contract)"],
    ], phases
    assert ("amount", "bigint", True) in _columns(pg_url)
    assert [c[0] for c in _columns(pg_url)].count("label") == 1
    assert _one(pg_url, "SELECT count(*) FROM orders")[0] == ROWS
