"""The project's files, without a server: validate, draft DDL, JSON Schemas, init, show a plan.

Owns: the use cases of `validate`, `gen-ddl`, `schema-json`, `init` and `show`, each one
function that returns a value for the CLI (or any caller) to render.

Must not: connect to a server, or print.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import desired as desired_mod
from reconciler.api.counts import kind_counts
from reconciler.desired import Desired
from reconciler.desired.findings import Finding
from reconciler.desired.lint import lint
from reconciler.diff import compare
from reconciler.errors import InputError
from reconciler.model.snapshot import PgSnapshot
from reconciler.pipeline.graph import order
from reconciler.plan import Plan
from reconciler.plan.files import find_plan, read_plan, verify_files
from reconciler.project import templates


@dataclass(frozen=True)
class Validation:
    """A loaded desired state and its lint findings; `ok` when no finding is an error."""

    desired: Desired
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> list[tuple[str, int]]:
        """(kind, how many) of every kind of object loaded (see `kind_counts`)."""
        return kind_counts(self.desired.pg, self.desired.redis)


def validate(schemas_dir: Path) -> Validation:
    """Load, validate and lint the YAML under `schemas_dir` (an InputError with file:line when
    a file is wrong)."""
    want = desired_mod.load(schemas_dir)
    return Validation(want, lint(want))


def gen_ddl(table: str, schemas_dir: Path) -> list[str]:
    """The statements that create one table (`name` or `schema.name`) and its indexes from its
    YAML, in dependency order: a draft to review, not a plan. Plain DDL, as a person writes
    it: no IF NOT EXISTS, no DO blocks (a plan's files keep those, to run twice safely)."""
    want = desired_mod.load(schemas_dir)
    schema, _, name = table.rpartition(".")
    key = (schema or "public", name)
    t = want.pg.tables.get(key)
    if t is None:
        raise InputError(f"No table {key[0]}.{key[1]} in {schemas_dir}/.")
    one = PgSnapshot(
        tables={key: t},
        indexes={k: i for k, i in want.pg.indexes.items() if (i.schema, i.table) == key},
    )
    return [
        f"{s.draft};" for change in order(compare(one, PgSnapshot())) for s in change.statements()
    ]


# The JSON Schema of each kind of desired-state file: its file name under schemas/ and title.
SCHEMA_KINDS = {
    "tables": "desired-tables.schema.json",  # schemas/**/*.yaml outside keys/
    "keys": "desired-keys.schema.json",  # schemas/**/keys/*.yaml
}
_TITLES = {
    "tables": "Reconciler desired state: PostgreSQL objects (schemas/**/*.yaml)",
    "keys": "Reconciler desired state: Redis key patterns, config and ACL (schemas/**/keys/*.yaml)",
}


def schema_json(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of desired-state file: `tables` (PostgreSQL) or `keys`."""
    if kind == "tables":
        from reconciler.desired.spec import FileSpec as model  # deferred: start-up: pydantic, yaml
    elif kind == "keys":
        from reconciler.desired.keyspec import (
            KeysFileSpec as model,  # deferred: start-up: pydantic, yaml
        )
    else:
        raise InputError(f"Unknown kind {kind!r}; use one of {', '.join(SCHEMA_KINDS)}.")
    body = model.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://reconciler.dev/json/{SCHEMA_KINDS[kind]}",
        **body,
        "title": _TITLES[kind],
    }


def show(plan: str, plans_dir: Path = Path("plans")) -> tuple[Path, Plan]:
    """A saved plan, named by its version (looked up in `plans_dir`) or its .plan.json path,
    after checking that its up and down files are the ones it was made with."""
    path = Path(plan) if plan.endswith(".json") else find_plan(plan, plans_dir)
    saved = read_plan(path)
    for direction in ("up", "down"):
        verify_files(saved, path.parent, direction=direction)
    return path, saved


def init(directory: Path) -> tuple[list[str], list[str]]:
    """Lay out a new project under `directory`: (files created, files kept because they exist).
    A file that exists is never written."""
    files: dict[str, str] = {
        "reconciler.yaml": templates.CONFIG,
        "schemas/tables/example.yaml": templates.TABLES,
        "schemas/keys/example.yaml": templates.KEYS,
        "plans/.gitkeep": "",
        "state/.gitkeep": "",
        ".gitignore": templates.GITIGNORE,
        ".vscode/settings.json": json.dumps(templates.VSCODE, indent=2) + "\n",
        **{
            f"json-schema/{name}": json.dumps(schema_json(kind), indent=2, ensure_ascii=False)
            + "\n"
            for kind, name in SCHEMA_KINDS.items()
        },
    }
    created, kept = [], []
    for rel, text in files.items():
        path = directory / rel
        if path.exists():
            kept.append(rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        created.append(rel)
    return created, kept
