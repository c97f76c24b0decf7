"""Table-level attributes from YAML: what the loader refuses, with file and line.

The round trips (export, apply, re-plan, rollback against hand-written SQL) are corpus cases:
tests/corpus/check_no_inherit_changes and the others named after an attribute."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.desired import load
from reconciler.errors import InputError
from tests.helpers import run_cli, write_yaml


def _problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for rel, text in files.items():
        write_yaml(tmp_path, rel, text)
    with pytest.raises(InputError) as info:
        load(tmp_path)
    return [str(p) for p in info.value.problems]


def test_a_partitioned_table_takes_no_no_inherit_check(tmp_path: Path) -> None:
    text = """
table: events
columns:
  - {name: n, type: integer}
partition_by: LIST (n)
checks:
  - {expression: n > 0, no_inherit: true}
"""
    problems = _problems(tmp_path, {"events.yaml": text})
    expected = "events.yaml:7: checks[0].no_inherit: a partitioned table's checks hold for its"
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (
            "{expression: n > 0, valid_on: [events_a]}",
            "events.yaml:7: checks[0].valid_on: valid_on lists where a NOT VALID check is "
            "validated below it: set valid: false",
        ),
        (
            "{expression: n > 0, valid: false, valid_on: [events_a, elsewhere]}",
            "events.yaml:7: check events_n_check: valid_on: 'public.elsewhere' is not a "
            "declared partition or child table of public.events",
        ),
    ],
)
def test_valid_on_names_partitions_of_a_not_valid_check(
    tmp_path: Path, check: str, expected: str
) -> None:
    text = f"""
table: events
columns:
  - {{name: n, type: integer}}
partition_by: LIST (n)
checks:
  - {check}
"""
    files = {
        "events.yaml": text,
        "events_a.yaml": "table: events_a\npartition_of: events\nbound: FOR VALUES IN (1)",
        "elsewhere.yaml": "table: elsewhere\ncolumns: [{name: n, type: integer}]",
    }
    problems = _problems(tmp_path, files)
    assert any(expected in p for p in problems), problems


def test_forced_row_security_cannot_say_force_false(tmp_path: Path) -> None:
    text = """
table: notes
columns: [{name: id, type: integer}]
row_security: forced
force_row_security: false
"""
    problems = _problems(tmp_path, {"notes.yaml": text})
    expected = "notes.yaml:5: force_row_security: row_security: forced is force_row_security: true"
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "replica_identity_index: nowhere\n",
            "replica_identity_index: 'nowhere' is not the primary key, a unique key or an index",
        ),
        (
            "replica_identity_index: runs_at\n",
            "replica_identity_index: index 'runs_at' cannot be the replica identity: not unique",
        ),
        (
            "replica_identity_index: runs_note\n",
            "index 'runs_note' cannot be the replica identity: column 'note' is nullable",
        ),
        (
            "replica_identity_index: runs_code\n",
            "index 'runs_code' cannot be the replica identity: partial",
        ),
        (
            "replica_identity_index: runs_pkey\nreplica_identity: full\n",
            "replica_identity: replica_identity and replica_identity_index exclude each other",
        ),
        (
            "replica_identity: some\n",
            "replica_identity: must be 'default', 'full' or 'nothing', not 'some'",
        ),
    ],
)
def test_a_replica_identity_must_be_a_usable_index(tmp_path: Path, extra: str, expected: str):
    text = """
table: runs
columns:
  - {name: id, type: integer}
  - {name: at, type: date, nullable: false}
  - {name: note, type: text}
  - {name: code, type: text, nullable: false}
primary_key: [id]
indexes:
  - {name: runs_at, columns: [at]}
  - {name: runs_note, columns: [note], unique: true}
  - {name: runs_code, columns: [code], unique: true, where: "code <> ''"}
"""
    problems = _problems(tmp_path, {"runs.yaml": text + extra})
    assert any(expected in p for p in problems), problems


def test_a_partitioned_table_keeps_its_persistence(pg_url, pg_conn, tmp_path: Path) -> None:
    pg_conn.execute("CREATE UNLOGGED TABLE public.staged (kind text) PARTITION BY LIST (kind)")
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "staged.yaml",
        "table: staged\ncolumns: [{name: kind, type: text}]\npartition_by: LIST (kind)\n",
    )
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code != 0
    assert "Table public.staged: a partitioned table cannot become logged in place." in r.text


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("{fill factor: 70}", "options.fill factor: 'fill factor' is not a storage parameter name"),
        ("{fillfactor: '70); DROP TABLE x'}", "is not a plain storage parameter value"),
    ],
)
def test_storage_parameters_are_plain_names_and_values(tmp_path: Path, options, expected):
    text = f"table: hot\ncolumns: [{{name: id, type: integer}}]\noptions: {options}\n"
    problems = _problems(tmp_path, {"hot.yaml": text})
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (
            "primary_key: {columns: [id], options: {fillfactor: '70); DROP TABLE x'}}",
            "hot.yaml:3: primary_key.options.fillfactor: '70); DROP TABLE x' is not a plain "
            "storage parameter value",
        ),
        (
            "unique:\n  - {columns: [code], options: {toast.fillfactor: 70}}",
            "hot.yaml:4: unique[0].options.toast.fillfactor: 'toast.fillfactor' is not a "
            "storage parameter name",
        ),
        (
            "unique:\n  - columns: [code]\n    options: {fillfactor: [70]}",
            "hot.yaml:5: unique[0].options.fillfactor: must be text, or true or false, or a "
            "whole number, not a list",
        ),
    ],
)
def test_a_keys_storage_parameters_are_an_indexs(tmp_path: Path, key: str, expected: str):
    """`options` of a primary key or unique constraint are checked as an index's are."""
    columns = "columns: [{name: id, type: integer}, {name: code, type: text}]"
    text = f"table: hot\n{columns}\n{key}\n"
    problems = _problems(tmp_path, {"hot.yaml": text})
    assert any(expected in p for p in problems), problems
