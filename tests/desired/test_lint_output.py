"""Lint as people read it: `validate` and `plan` agree on what the files break, many findings
of one rule come as one summary, and the first table of docs/getting-started.md is clean."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_cli, write_yaml

# docs/getting-started.md, as written there.
ACCOUNTS = """\
table: accounts
comment: Customer accounts.
columns:
  - {name: id, type: uuid, default: gen_random_uuid()}
  - {name: email, type: text, nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
unique:
  - columns: [email]
"""

SHARD = """\
table: {name}
columns:
  - {{name: id, type: uuid}}
  - {{name: created_at, type: timestamptz}}
  - {{name: updated_at, type: timestamptz}}
primary_key: [id]
"""

# A table without the mandatory columns (an error) and with a singular name (a warning).
LEGACY = """\
table: legacy_item
columns:
  - {name: id, type: integer}
primary_key: [id]
"""


def test_the_getting_started_table_validates_clean(tmp_path: Path) -> None:
    assert "table: accounts" in Path("docs/getting-started.md").read_text()
    write_yaml(tmp_path, "schemas/tables/accounts.yaml", ACCOUNTS)
    r = run_cli("validate", "--schemas", "schemas", cwd=tmp_path)
    assert r.code == 0, r.text
    assert "0 lint errors, 0 warnings" in r.out
    assert r.err == ""


def test_numbered_and_partition_tables_of_a_plural_stem_are_plural(tmp_path: Path) -> None:
    for name in ("items_0001", "events_2024_01", "orders_p3", "audit", "staff", "metadata"):
        write_yaml(tmp_path, f"schemas/tables/{name}.yaml", SHARD.format(name=name))
    r = run_cli("validate", "--schemas", "schemas", cwd=tmp_path)
    assert r.code == 0, r.text
    assert "0 lint errors, 0 warnings" in r.out and r.err == "", r.text


def test_many_findings_of_one_rule_are_summarized_unless_all(tmp_path: Path) -> None:
    for n in range(1, 14):
        name = f"item_{n:04d}"
        write_yaml(tmp_path, f"schemas/tables/{name}.yaml", SHARD.format(name=name))
    r = run_cli("validate", "--schemas", "schemas", cwd=tmp_path)
    assert r.code == 0, r.text  # naming is a warning
    lines = r.err.splitlines()
    assert lines[0] == "warning table-name: 13 findings; the first 5:", r.err
    assert lines[1] == (
        "  schemas/tables/item_0001.yaml:1: table 'item_0001' should have a plural name"
    )
    assert len(lines) == 7 and "and 8 more" in lines[6] and "--all" in lines[6], r.err
    assert "0 lint errors, 13 warnings" in r.out
    every = run_cli("validate", "--schemas", "schemas", "--all", cwd=tmp_path)
    assert every.code == 0
    assert len(every.err.splitlines()) == 13
    assert all("warning table-name:" in line for line in every.err.splitlines())


def test_plan_shows_what_validate_fails_on(pg_url: str, tmp_path: Path) -> None:
    write_yaml(tmp_path, "schemas/tables/accounts.yaml", ACCOUNTS)
    write_yaml(tmp_path, "schemas/tables/legacy_item.yaml", LEGACY)
    v = run_cli("validate", "--schemas", "schemas", cwd=tmp_path)
    assert v.code == 1, v.text
    errors = [line for line in v.err.splitlines() if " error " in line]
    assert len(errors) == 3, v.err  # pk-uuid-id, created_at, updated_at
    p = run_cli("plan", "--pg", pg_url, "--schemas", "schemas", cwd=tmp_path)
    assert p.code == 0, p.text  # a plan writes nothing to the database: it is still made
    for line in errors:
        assert line in p.err, p.err
    assert "3 lint errors: `reconciler validate` (and `check`) fail on them" in p.err
    assert "1 lint warning (table-name): `reconciler validate` lists them." in p.err
    assert "+ pg.table.public.legacy_item" in p.out
    clean = tmp_path / "clean"
    write_yaml(clean, "schemas/tables/accounts.yaml", ACCOUNTS)
    q = run_cli("plan", "--pg", pg_url, "--schemas", "schemas", cwd=clean)
    assert q.code == 0 and "lint" not in q.err, q.text
