"""Table-level attributes from YAML: what the loader refuses, with file and line.

The round trips (export, apply, re-plan, rollback against hand-written SQL) are corpus cases:
tests/corpus/check_no_inherit_changes and the others named after an attribute."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.desired import load
from reconciler.errors import InputError
from tests.helpers import write_yaml


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
