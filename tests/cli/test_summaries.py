"""The one-line summaries of validate and export count every kind of object they handled (views,
functions, sequences, enums… not only tables), and export names every file it wrote, by folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import run_cli, write_yaml

BASE = """\
enums:
  - {name: account_status, values: [active, closed]}
sequences:
  - {name: ticket_no}
views:
  - name: open_accounts
    query: SELECT id, email FROM public.accounts WHERE status = 'active'
functions:
  - name: add_one
    arguments: "x integer"
    returns: integer
    language: sql
    body: SELECT x + 1
"""
ACCOUNTS = """\
table: accounts
columns:
  - {name: id, type: uuid, default: gen_random_uuid()}
  - {name: email, type: text, nullable: false}
  - {name: status, type: account_status, nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
"""
KEYS = """\
namespace: app
patterns:
  - {pattern: "app:session:{id}", type: hash, class: session}
"""


def _project(root: Path) -> None:
    write_yaml(root, "schemas/base.yaml", BASE)
    write_yaml(root, "schemas/accounts.yaml", ACCOUNTS)
    write_yaml(root, "schemas/keys/app.yaml", KEYS)


def test_validate_counts_every_kind_it_loaded(tmp_path: Path) -> None:
    _project(tmp_path)
    r = run_cli("validate", cwd=tmp_path)
    assert r.code == 0, r.text
    assert (
        "3 files: 1 schema, 1 enum, 1 table, 1 view, 1 function, 1 sequence, 1 key pattern; "
        "0 lint errors, 0 warnings." in r.out
    ), r.out


@pytest.mark.servers
def test_export_counts_and_lists_every_file_it_wrote(tmp_path: Path, pg_url: str) -> None:
    _project(tmp_path)
    r = run_cli("apply", "--pg", pg_url, "--redis", "", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    r = run_cli("export", "--pg", pg_url, "--out", "exported", cwd=tmp_path)
    assert r.code == 0, r.text
    written = sorted(
        p.relative_to(tmp_path / "exported").as_posix()
        for p in (tmp_path / "exported").rglob("*.yaml")
    )
    head = re.search(r"Exported (.*) into (\d+) files under exported/:", r.out)
    assert head, r.out
    for kind in ("1 schema", "1 enum", "1 table", "1 view", "1 function", "1 sequence"):
        assert kind in head.group(1), r.out
    assert int(head.group(2)) == len(written)
    listed = " ".join(r.out.split())
    for rel in written:  # every file, under its folder's line
        folder, _, name = rel.rpartition("/")
        if folder:
            assert re.search(rf"{folder}/ \d+ files?: [^\n]*{re.escape(name)}", r.out), (rel, r.out)
        else:
            assert name in listed, (rel, r.out)
    assert any(rel.startswith("views/") for rel in written), written
