"""reconciler init (a new project's layout) and schema-json (the JSON Schema of the
desired-state YAML files, for editors).

Generated from the pydantic models the loader validates with (desired/spec.py,
desired/keyspec.py), so it cannot drift from what `validate` accepts. docs/json/ holds the
generated files; a YAML file that starts with `# yaml-language-server: $schema=<path to one of
them>` gets completion and checking in VS Code (the YAML extension) and other editors speaking
the YAML language server.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from reconciler.cli.root import app, out_console
from reconciler.render.text import render_plan


def render(kind: str) -> str:
    from reconciler.api import project as api_project  # deferred: start-up

    return json.dumps(api_project.schema_json(kind), indent=2, ensure_ascii=False) + "\n"


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
    from reconciler.api import project as api_project  # deferred: start-up

    if out is None:
        print(render(kind), end="")
        return
    out.mkdir(parents=True, exist_ok=True)
    for k, name in api_project.SCHEMA_KINDS.items():
        (out / name).write_text(render(k), encoding="utf-8")
        print(f"wrote {out / name}")


# --- init ---------------------------------------------------------------------------------------


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
    from reconciler.api import project as api_project  # deferred: start-up

    created, kept = api_project.init(directory)
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
    from reconciler.api import project as api_project  # deferred: start-up

    path, saved = api_project.show(plan, out)
    if as_json:
        print(saved.to_json(), end="")
        return
    con = out_console()
    con.print(f"Plan {saved.name} ({path}):\n", highlight=False, markup=False)
    render_plan(saved.to_dict(), con, show_sql=show_sql)
