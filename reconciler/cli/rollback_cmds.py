"""rollback: run the down files of applied versions, gated like a plan (api.rollback)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from reconciler import api
from reconciler.cli.options import (
    IN_BATCHES,
    LOCK_TIMEOUT,
    PG,
    REDIS,
    ask_to_confirm,
    print_notes,
    print_skipped,
)
from reconciler.cli.root import app, out_console
from reconciler.connect import resolve_targets
from reconciler.model.words import counted
from reconciler.plan import Plan
from reconciler.project.config import setting
from reconciler.render.summary import show_plan


@app.command()
def rollback(
    pg: str = PG,
    redis: str = REDIS,
    version: str = typer.Option(None, "--version", help="Roll back to before this version."),
    last: bool = typer.Option(False, "--last", help="Roll back the last apply."),
    plans: Path = typer.Option(Path("plans"), "--out", help="Plans directory."),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask to confirm."),
    force: bool = typer.Option(
        False, "--force", help="Roll back even though the database changed since the apply."
    ),
    allow_destructive: bool = typer.Option(
        False,
        "--allow-destructive",
        help="Allow dropping tables and columns that hold rows (they are kept in "
        "reconciler_trash; applying the version again brings them back).",
    ),
    lock_timeout: float | None = LOCK_TIMEOUT,
    in_batches: bool = IN_BATCHES,
) -> None:
    """Run the down file(s) of applied versions, newest first, and record it.

    Example: reconciler rollback --last --pg postgresql://127.0.0.1/app --auto-approve
    """
    con = out_console()

    def confirm(back: Plan, records: list) -> bool:
        con.print("Rolling back:")
        for r in records:
            con.print(f"  - {r.version}_{escape(r.slug)} ({counted(r.change_count, 'change')})")
        con.print()
        show_plan(back.to_dict(), con, every="the versions' down files hold every change")
        return ask_to_confirm("\nRoll back these versions?", auto_approve)

    pg_url, redis_url = resolve_targets(pg, redis)
    result = api.rollback(
        pg_url,
        redis_url=redis_url,
        version=version,
        last=last,
        plans_dir=plans,
        lock_timeout=setting("lock_timeout", lock_timeout, 0.0),
        force=force,
        allow_destructive=allow_destructive,
        confirm=confirm,
        in_batches=in_batches,
    )
    print_notes(result.notes)
    print_skipped(result.skipped, "apply and rollback")
    if result.done:
        con.print(f"[green]Rolled back[/] {', '.join(r.version for r in result.done)}.")
