"""reconciler init (a new project's layout) and schema-json (the JSON Schema of the
desired-state YAML files, for editors).

Generated from the pydantic models the loader validates with (desired/spec.py, keyspec.py), so
it cannot drift from what `validate` accepts. docs/json/ holds the generated files; a YAML file
that starts with `# yaml-language-server: $schema=<path to one of them>` gets completion and
checking in VS Code (the YAML extension) and other editors speaking the YAML language server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from reconciler.cli import app
from reconciler.errors import InputError

KINDS = {
    "tables": "desired-tables.schema.json",  # schemas/**/*.yaml outside keys/
    "keys": "desired-keys.schema.json",  # schemas/**/keys/*.yaml
}
_TITLES = {
    "tables": "Reconciler desired state: PostgreSQL objects (schemas/**/*.yaml)",
    "keys": "Reconciler desired state: Redis key patterns, config and ACL (schemas/**/keys/*.yaml)",
}


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of desired-state file."""
    if kind == "tables":
        from reconciler.desired.spec import FileSpec as model
    elif kind == "keys":
        from reconciler.desired.keyspec import KeysFileSpec as model
    else:
        raise InputError(f"Unknown kind {kind!r}; use one of {', '.join(KINDS)}.")
    body = model.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://reconciler.dev/json/{KINDS[kind]}",
        **body,
        "title": _TITLES[kind],
    }


def render(kind: str) -> str:
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"


@app.command("schema-json")
def schema_json(
    kind: str = typer.Option("tables", "--kind", help="tables (PostgreSQL files) or keys (Redis)."),
    out: Path | None = typer.Option(
        None, "--out", help="Write every kind's schema into this folder instead of printing one."
    ),
) -> None:
    """Print the JSON Schema of the desired-state YAML files (editor completion and checks).

    Examples:
      reconciler schema-json > tables.schema.json
      reconciler schema-json --kind keys
      reconciler schema-json --out json-schema/
    """
    if out is None:
        print(render(kind), end="")
        return
    out.mkdir(parents=True, exist_ok=True)
    for k, name in KINDS.items():
        (out / name).write_text(render(k), encoding="utf-8")
        print(f"wrote {out / name}")


# --- init ---------------------------------------------------------------------------------------

_CONFIG = """\
# Reconciler project settings: which servers each environment targets.
# Choose one with `reconciler --env NAME …` or RECONCILER_ENV; flags (--pg, --redis) and
# RECONCILER_PG_URL / RECONCILER_REDIS_URL still win. Keep passwords in the environment.
version: 1
default_environment: dev
environments:
  dev: {}  # nothing given: the servers of `reconciler dev up`
  staging:
    pg: ${STAGING_PG_URL}
    redis: ${STAGING_REDIS_URL}
  prod:
    pg: ${PROD_PG_URL}
    redis: ${PROD_REDIS_URL}
"""
_TABLES = """\
# yaml-language-server: $schema=../../json-schema/desired-tables.schema.json
# One file per table. Uncomment and edit, then `reconciler validate` and `reconciler plan`.
#
# table: accounts
# comment: Customer accounts.
# columns:
#   - {name: id, type: uuid, default: gen_random_uuid()}
#   - {name: email, type: text, nullable: false}
#   - {name: created_at, type: timestamptz, nullable: false, default: now()}
#   - {name: updated_at, type: timestamptz, nullable: false, default: now()}
# primary_key: [id]
# unique:
#   - columns: [email]
"""
_KEYS = """\
# yaml-language-server: $schema=../../json-schema/desired-keys.schema.json
# The Redis keyspace: key patterns with their type and TTL class, config, ACL users.
#
# namespace: app
# patterns:
#   - {pattern: "app:session:{id}", type: hash, class: session}
#   - {pattern: "app:cache:user:{id}", type: string, class: cache}
"""
_GITIGNORE = """\
# Reconciler: local cache, run logs and backups stay out of version control; plans go in.
.reconciler/
state/logs/
backups/
"""
_VSCODE = {
    "yaml.schemas": {
        "./json-schema/desired-tables.schema.json": [
            "schemas/**/*.yaml",
            "!schemas/**/keys/*.yaml",
        ],
        "./json-schema/desired-keys.schema.json": ["schemas/**/keys/*.yaml"],
    }
}


@app.command("init")
def init(
    directory: Path = typer.Argument(Path("."), help="Where to lay out the project."),
) -> None:
    """Lay out a new project: schemas/, plans/, state/, reconciler.yaml, .gitignore, the
    JSON Schemas of the YAML files and the editor settings that use them. Files that exist
    are left as they are.

    Examples:
      reconciler init && reconciler validate
      reconciler init infra/db
    """
    files: dict[str, str] = {
        "reconciler.yaml": _CONFIG,
        "schemas/tables/example.yaml": _TABLES,
        "schemas/keys/example.yaml": _KEYS,
        "plans/.gitkeep": "",
        "state/.gitkeep": "",
        ".gitignore": _GITIGNORE,
        ".vscode/settings.json": json.dumps(_VSCODE, indent=2) + "\n",
        **{f"json-schema/{name}": render(kind) for kind, name in KINDS.items()},
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
    for rel in created:
        print(f"created {directory / rel}")
    for rel in kept:
        print(f"kept    {directory / rel} (exists)")
    print("Next: edit schemas/, then `reconciler validate` and `reconciler plan`.")


# --- show ---------------------------------------------------------------------------------------


@app.command("show")
def show(
    plan: str = typer.Argument(..., metavar="VERSION|FILE", help="A plan's version or .plan.json."),
    out: Path = typer.Option(Path("plans"), "--out", help="Plans directory (for a VERSION)."),
    as_json: bool = typer.Option(False, "--json", help="The plan as JSON (plan.v1 schema)."),
    show_sql: bool = typer.Option(False, "--sql", help="Show the SQL of each change."),
) -> None:
    """Render a saved plan as `plan` printed it, after checking its files are unedited; no
    server is contacted.

    Example: reconciler show 20261125120000 --sql
    """
    from reconciler.cli import out_console
    from reconciler.plan.files import read_plan, verify_files
    from reconciler.render.text import render_plan

    path = Path(plan)
    if not plan.endswith(".json"):
        matches = sorted(out.glob(f"{plan}_*.plan.json"))
        if not matches:
            raise InputError(f"No saved plan with version {plan} in {out}/.")
        path = matches[0]
    saved = read_plan(path)
    for direction in ("up", "down"):
        verify_files(saved, path.parent, direction=direction)
    if as_json:
        print(json.dumps(saved.to_dict(), indent=2, ensure_ascii=False))
        return
    con = out_console()
    con.print(f"Plan {saved.name} ({path}):\n", highlight=False, markup=False)
    render_plan(saved.to_dict(), con, show_sql=show_sql)
