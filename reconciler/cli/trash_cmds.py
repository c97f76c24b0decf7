"""reconciler trash list|purge: what dropped tables and columns left in reconciler_trash."""

from __future__ import annotations

import json

import typer
from rich.markup import escape

from reconciler.cli.options import LOCK_TIMEOUT, PG, ask_to_confirm, print_uncut
from reconciler.cli.root import app, out_console
from reconciler.connect import resolve_pg_url
from reconciler.model.words import counted
from reconciler.project.config import setting

trash_app = typer.Typer(help="Data kept by dropped tables and columns (reconciler_trash).")
app.add_typer(trash_app, name="trash")


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


@trash_app.command("list")
def trash_list(
    pg: str = PG,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """Every kept table or column: what it was, when it was dropped, its size.

    Example: reconciler trash list --json
    """
    from reconciler.api import records  # deferred: start-up

    entries = records.trash_list(resolve_pg_url(pg))
    if as_json:
        print(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    con = out_console()
    if not entries:
        con.print("The trash is empty.")
        return
    rows = [
        (
            escape(f"reconciler_trash.{e.name}"),
            escape(f"{e.kind} {e.address}"),
            e.dropped_at.isoformat(timespec="seconds") if e.dropped_at else "?",
            _size(e.bytes),
        )
        for e in entries
    ]
    # The name is what `trash restore` takes: never cut (a block an entry when too wide).
    print_uncut(
        ("kept as", "was", "dropped at", "size"),
        rows,
        lambda i: [rows[i][0], f"  was {rows[i][1]}, dropped at {rows[i][2]}, {rows[i][3]}"],
    )


@trash_app.command("purge")
def trash_purge(
    pg: str = PG,
    older_than: str = typer.Option(
        ..., "--older-than", help="Purge what was dropped longer ago than this: 7d, 12h, 30m."
    ),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask to confirm."),
    lock_timeout: float | None = LOCK_TIMEOUT,
) -> None:
    """Drop kept data for good (under the apply lock, so no rollback restores meanwhile).

    Example: reconciler trash purge --older-than 7d --auto-approve
    """
    from reconciler.api import records  # deferred: start-up

    con = out_console()

    def confirm(purge: records.Purge) -> bool:
        for e in purge.due:
            con.print(
                f"  - reconciler_trash.{escape(e.name)}: {escape(e.kind)} {escape(e.address)}"
            )
            for v in purge.versions.get(e.name, ()):
                con.print(f"      version {escape(v)} can then no longer bring its rows back")
        question = f"Purge these {len(purge.due)} for good? Rollbacks can no longer restore them."
        return ask_to_confirm(question, auto_approve)

    result = records.trash_purge(
        resolve_pg_url(pg),
        older_than,
        confirm=confirm,
        lock_timeout=setting("lock_timeout", lock_timeout, 0.0),
    )
    if not result.due:
        con.print(f"Nothing in the trash is older than {escape(older_than)}.")
        return
    if not result.gone:
        con.print("Nothing was purged.")
        return
    gone, affected = result.gone, result.affected
    con.print(f"[green]Purged[/] {counted(len(gone), 'kept table')}.")
    if affected:
        con.print(
            "[yellow]These recorded versions can no longer restore the purged rows[/] "
            f"(a rollback of them is refused without --allow-destructive): {', '.join(affected)}."
        )
