"""The plan as a reviewer reads it, for a fixed scenario, compared with a reviewed golden file
(tests/golden/plan.txt): grouping by table, attribute changes old → new, the hazards block and
the summary. After an intended change of the rendering: UPDATE_GOLDEN=1 pytest this file, then
review the diff of the golden file like any other code."""

from __future__ import annotations

import os
import re
from pathlib import Path

import psycopg

from tests.helpers import run_cli, write_yaml

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "plan.txt"

LIVE = """
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email text,
    legacy_code text,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE accounts IS 'People who sign in.';
CREATE INDEX idx_accounts_created_at ON accounts (created_at);
CREATE TABLE audit (id bigint PRIMARY KEY, note text);
"""

ACCOUNTS = """\
table: accounts
comment: People who sign in, and the teams they belong to.
columns:
  - {name: id, type: bigint, nullable: false}
  - {name: email, type: varchar(320), nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: display_name, type: text}
primary_key: [id]
indexes:
  - columns: [email]
    unique: true
"""
SESSIONS = """\
table: sessions
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: account_id, type: bigint, nullable: false}
  - {name: state, type: session_state, nullable: false}
primary_key: [id]
foreign_keys:
  - columns: [account_id]
    references: accounts
    on_delete: cascade
"""
ENUMS = "enums:\n  - name: session_state\n    values: [active, expired, revoked]\n"


def test_the_plan_reads_as_the_golden_file(pg_url, tmp_path):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
    schemas = tmp_path / "schemas"
    write_yaml(schemas, "tables/accounts.yaml", ACCOUNTS)
    write_yaml(schemas, "tables/sessions.yaml", SESSIONS)
    write_yaml(schemas, "types/session_state.yaml", ENUMS)
    r = run_cli(
        "plan", "--pg", pg_url, "--schemas", str(schemas), "--out", str(tmp_path / "plans"),
        "--drop-mode", "drop", cwd=tmp_path,
    )  # fmt: skip
    assert r.code == 0, r.text
    text = re.sub(r"\d{14}(?=_)", "<VERSION>", r.out).replace(str(tmp_path), "<TMP>")
    assert "\x1b[" not in text  # not a terminal: no colour codes
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8"), (
        "the rendered plan differs from tests/golden/plan.txt (UPDATE_GOLDEN=1 to accept it)"
    )
