"""gen-ddl drafts plain DDL a person reviews: no re-run guards (IF NOT EXISTS, DO blocks), one
column a line, constraints inline or as a plain ALTER TABLE; and the draft, run as it is on a
real server, makes exactly the table its YAML declares."""

from __future__ import annotations

from tests.helpers import run_cli, write_yaml

ORDERS = """
table: orders
comment: What customers bought.
replica_identity: full
columns:
  - name: id
    type: integer
    nullable: false
    sequence: public.orders_id_seq
    default: nextval('public.orders_id_seq'::regclass)
  - {name: parent_id, type: integer}
  - {name: code, type: text, nullable: false}
  - {name: amount, type: "numeric(10,2)", nullable: false}
primary_key: [id]
unique:
  - columns: [code]
checks:
  - expression: amount >= 0
  - name: orders_code_check
    expression: code <> ''
    valid: false
foreign_keys:
  - columns: [parent_id]
    references: orders
indexes:
  - columns: [parent_id]
    where: parent_id IS NOT NULL
    comment: Children of an order.
"""


def test_gen_ddl_is_plain_reviewable_ddl_that_makes_the_declared_table(tmp_path, pg_url, pg_conn):
    root = tmp_path / "schemas"
    write_yaml(root, "tables/orders.yaml", ORDERS)
    r = run_cli("gen-ddl", "orders", "--schemas", str(root), cwd=tmp_path)
    assert r.code == 0, r.text
    draft = r.out
    assert "DO $" not in draft and "EXCEPTION" not in draft, draft
    assert "IF NOT EXISTS" not in draft and "IF EXISTS" not in draft, draft
    lines = draft.splitlines()
    create = lines.index('CREATE TABLE "public"."orders" (')
    assert lines[create + 1].startswith('    "id" integer DEFAULT nextval('), draft
    assert lines[create + 2] == '    "parent_id" integer,', draft
    assert "CREATE SEQUENCE public.orders_id_seq AS integer;" in lines, draft
    assert 'ALTER TABLE "public"."orders"' in lines, draft  # the constraint on the next line
    assert any(line.startswith('    ADD CONSTRAINT "orders_code_check" CHECK') for line in lines), (
        draft
    )
    assert any(line.startswith('CREATE INDEX "idx_orders_parent_id" ON') for line in lines)
    assert 'ALTER TABLE "public"."orders" REPLICA IDENTITY FULL;' in lines, draft

    # run as it is (one transaction), the draft makes what the YAML declares: nothing to plan
    pg_conn.execute(draft)
    pg_conn.commit()
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 0, r.text
    assert "No changes." in r.out, r.out
