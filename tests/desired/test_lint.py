"""Lint rules (the seed's conventions): each fires on a violation and stays quiet otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.desired import load
from reconciler.desired.findings import Finding
from reconciler.desired.lint import is_plural, lint
from reconciler.desired.lint_rules import RULES
from reconciler.errors import InputError
from reconciler.model.address import Address

GOOD_USERS = """
table: users
columns:
  - {name: id, type: uuid, default: gen_random_uuid()}
  - {name: email, type: text}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamp, nullable: false, default: now()}
primary_key: [id]
indexes:
  - columns: [email]
"""

GOOD_RUNS = """
table: runs
columns:
  - {name: id, type: uuid}
  - {name: user_id, type: uuid}
  - {name: created_at, type: timestamptz(3)}
  - {name: updated_at, type: timestamptz}
primary_key: [id]
foreign_keys:
  - {columns: [user_id], references: users}
"""


def findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **files: str) -> list[Finding]:
    monkeypatch.chdir(tmp_path)
    for name, text in {"users": GOOD_USERS, "runs": GOOD_RUNS, **files}.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return lint(load(Path(".")))


def test_conforming_tables_are_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert findings(tmp_path, monkeypatch) == []


# rule → (file name, YAML text of a violating version, expected finding message, line)
VIOLATIONS = {
    "table-name": (
        "runs",
        GOOD_RUNS.replace("table: runs", "table: run"),
        "table 'run' should have a plural name",
        2,
    ),
    "column-name": (
        "users",
        GOOD_USERS.replace("name: email", "name: eMail").replace("[email]", "[eMail]"),
        "column 'users.eMail' is not lowercase snake_case",
        5,
    ),
    "index-name": (
        "users",
        GOOD_USERS.replace("  - columns: [email]", "  - {columns: [email], name: email_idx}"),
        "index 'email_idx' on 'users' should be named idx_users_<column>",
        10,
    ),
    "fk-name": (
        "runs",
        GOOD_RUNS.replace("references: users}", "references: users, name: runs_user_fk}"),
        "foreign key 'runs_user_fk' on 'runs' should be named fk_runs_users",
        10,
    ),
    "pk-uuid-id": (
        "runs",
        GOOD_RUNS.replace("{name: id, type: uuid}", "{name: id, type: bigint}"),
        "column 'runs.id' must be of type uuid",
        4,
    ),
    "timestamps": (
        "runs",
        GOOD_RUNS.replace(
            "{name: updated_at, type: timestamptz}", "{name: updated_at, type: date}"
        ),
        "column 'runs.updated_at' must be a timestamp, not date",
        7,
    ),
}


@pytest.mark.parametrize("rule", sorted(VIOLATIONS))
def test_rule_fires_on_violation(
    rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, text, message, line = VIOLATIONS[rule]
    found = findings(tmp_path, monkeypatch, **{name: text})
    assert [(f.rule, f.message, f.source) for f in found] == [
        (rule, message, f"{name}.yaml:{line}")
    ]
    assert found[0].severity == RULES[rule][0]


@pytest.mark.parametrize("rule", sorted(VIOLATIONS))
def test_ignore_with_reason_silences_the_rule(
    rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, text, _, _ = VIOLATIONS[rule]
    text += f"lint:\n  ignore:\n    - rule: {rule}\n      reason: agreed in review\n"
    assert findings(tmp_path, monkeypatch, **{name: text}) == []


def test_ignore_only_silences_its_own_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = GOOD_RUNS.replace("table: runs", "table: run")
    users = GOOD_USERS.replace("table: users", "table: user").replace("references", "x")
    runs = runs.replace("references: users", "references: user")
    runs += "lint: {ignore: [{rule: table-name, reason: legacy}]}\n"
    found = findings(tmp_path, monkeypatch, runs=runs, users=users)
    assert [(f.rule, f.address) for f in found] == [
        ("table-name", Address.of("pg", "table", "public", "user"))
    ]


def test_ignore_without_reason_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD_RUNS.replace("table: runs", "table: run") + "lint: {ignore: [{rule: table-name}]}\n"
    with pytest.raises(InputError) as info:
        findings(tmp_path, monkeypatch, runs=text)
    assert [str(p) for p in info.value.problems] == [
        "runs.yaml:11: lint.ignore[0]: missing required key 'reason'"
    ]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("Runs", "table 'Runs' is not lowercase snake_case"),
        ("run-logs", "table 'run-logs' is not lowercase snake_case"),
        ("process", "table 'process' should have a plural name"),
    ],
)
def test_table_name_variants(
    table: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = findings(
        tmp_path, monkeypatch, runs=GOOD_RUNS.replace("table: runs", f'table: "{table}"')
    )
    assert [(f.rule, f.message) for f in found] == [("table-name", message)]


@pytest.mark.parametrize(
    "name",
    [
        *["runs", "audit_logs", "people", "user_metadata", "news", "data"],
        # numbered, partition and shard tables are plural when their stem is
        *["items_0001", "events_2024_01", "orders_p3", "logs_y2024m01", "metrics_2024q1"],
        *["sessions_default", "orders_shard7"],
        # uncountable, or already naming many
        *["metadata", "staff", "audit", "order_history", "inventory", "status", "equipment"],
    ],
)
def test_plural_heuristic_accepts(name: str) -> None:
    assert is_plural(name)


@pytest.mark.parametrize(
    "name",
    ["run", "audit_log", "person", "address", "item_0001", "event_2024_01", "order_p3", "t_2024"],
)
def test_plural_heuristic_rejects(name: str) -> None:
    assert not is_plural(name)


@pytest.mark.parametrize(
    ("columns", "pk", "message"),
    [
        ("[{name: id, type: uuid}]", "", "table 'runs' must have the primary key (id)"),
        (
            "[{name: id, type: uuid}, {name: n, type: int}]",
            "primary_key: [id, n]",
            "table 'runs' must have the primary key (id)",
        ),
        ("[{name: key, type: uuid}]", "primary_key: [key]", "must have the primary key (id)"),
    ],
)
def test_pk_uuid_id_variants(
    columns: str, pk: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = f"table: runs\ncolumns: {columns}\n{pk}\n"
    runs += "lint: {ignore: [{rule: timestamps, reason: test}]}\n"
    found = findings(tmp_path, monkeypatch, runs=runs)
    assert [f.rule for f in found] == ["pk-uuid-id"]
    assert message in found[0].message and found[0].severity == "error"


def test_timestamps_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = GOOD_RUNS.replace("  - {name: created_at, type: timestamptz(3)}\n", "")
    runs = runs.replace("  - {name: updated_at, type: timestamptz}\n", "")
    found = findings(tmp_path, monkeypatch, runs=runs)
    assert [(f.rule, f.message) for f in found] == [
        ("timestamps", "table 'runs' has no 'created_at' column"),
        ("timestamps", "table 'runs' has no 'updated_at' column"),
    ]


def test_enum_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enums = "enums:\n  - {name: run_status, values: [a]}\n  - {name: RunKind, values: [b]}\n"
    found = findings(tmp_path, monkeypatch, enums=enums)
    assert [(f.rule, f.severity, f.address, f.source) for f in found] == [
        ("enum-name", "warning", Address.of("pg", "enum", "public", "RunKind"), "enums.yaml:3")
    ]


def test_findings_sorted_by_file_then_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = GOOD_RUNS.replace("table: runs", "table: run").replace("name: user_id", "name: userId")
    runs = runs.replace("[user_id]", "[userId]")
    users = GOOD_USERS.replace("{name: id, type: uuid", "{name: id, type: text")
    found = findings(tmp_path, monkeypatch, runs=runs, users=users)
    assert [(f.source, f.rule) for f in found] == [
        ("runs.yaml:2", "table-name"),
        ("runs.yaml:5", "column-name"),
        ("users.yaml:4", "pk-uuid-id"),
    ]


def test_every_rule_is_described() -> None:
    assert set(RULES) == {
        "table-name",
        "column-name",
        "index-name",
        "fk-name",
        "pk-uuid-id",
        "timestamps",
        "enum-name",
        "key-pattern",
        "key-type-class",
        "key-ttl",
        "acl-nopass",
    }
    assert all(sev in ("error", "warning") and text for sev, text in RULES.values())
