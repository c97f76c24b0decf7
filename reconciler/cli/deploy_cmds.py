"""check, rollback-check, backup, restore: what runs around a deploy rather than in it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from reconciler.cli.options import PG, REDIS, SCHEMAS, ask_to_confirm
from reconciler.cli.root import app, err_console, out_console
from reconciler.connect import resolve_pg_url, resolve_targets
from reconciler.errors import ExitCode
from reconciler.model.words import counted

if TYPE_CHECKING:
    from reconciler.api.check import Report


@app.command("check")
def check_cmd(
    pg: str = PG,
    schemas: Path = SCHEMAS,
    plans: Path = typer.Option(Path("plans"), "--plans", help="The plans directory to check."),
) -> None:
    """Validate and lint, prove the plans directory intact, and try every pending plan (up,
    down, up) on a scratch copy of the live schema: exit 0 all sound, 1 otherwise.

    Example: reconciler check --pg postgresql://127.0.0.1/app --schemas schemas --plans plans
    """
    from reconciler.api.check import check

    pg_url = resolve_pg_url(pg)
    _print_report(check(pg_url, schemas, plans))


def _print_report(report: Report) -> None:
    """One line per finding (ok / FAIL / note) and a summary; exit 1 on any failure."""
    con = out_console()
    marks = {True: "[green]ok[/]  ", False: "[red]FAIL[/]", None: "[dim]note[/]"}
    for f in report.findings:
        con.print(f"{marks[f.ok]} {f.step:<9} {escape(f.message)}", highlight=False)
    failures = sum(1 for f in report.findings if f.ok is False)
    con.print("All checks passed." if report.ok else f"{counted(failures, 'check')} failed.")
    if not report.ok:
        raise typer.Exit(ExitCode.ERROR)


@app.command("rollback-check")
def rollback_check_cmd(
    pg: str = PG,
    schemas: Path = SCHEMAS,
    prev_ref: str = typer.Option(..., "--prev-ref", help="The git ref of the previous release."),
) -> None:
    """Build the schema at the previous release on a scratch database, apply the plan to this
    one, roll it back and compare: exit 0 when the rollback gives back exactly that schema.

    Example: reconciler rollback-check --pg postgresql://127.0.0.1/app --prev-ref v1.4.0
    """
    from reconciler.api.rollback_check import rollback_check

    pg_url = resolve_pg_url(pg)
    _print_report(rollback_check(pg_url, schemas, prev_ref))


@app.command("backup")
def backup_cmd(
    pg: str = PG,
    redis: str = REDIS,
    out: Path = typer.Option(Path("backups"), "--out", help="Directory of the backup files."),
    rdb: bool = typer.Option(
        False,
        "--rdb",
        help="Also fetch the Redis server's RDB snapshot (redis-cli --rdb): a full sync, which "
        "a diskless-replication server starts only after repl-diskless-sync-delay (5 s).",
    ),
) -> None:
    """pg_dump -Fc of the database and every Redis key with its value and expiry (plus, with
    --rdb, the server's RDB snapshot), under one UTC stamp; each step is said on stderr.

    Example: reconciler backup --pg postgresql://127.0.0.1/app --redis redis://127.0.0.1/0
    """
    from reconciler.api.servers import backup  # deferred: start-up

    pg_url, redis_url = resolve_targets(pg, redis)
    err = err_console()
    for path in backup(pg_url, redis_url, out, rdb=rdb, progress=lambda line: err.print(line)):
        out_console().print(f"wrote {escape(str(path))}")


@app.command("restore")
def restore_cmd(
    backup_file: Path = typer.Argument(..., help="A backup's .dump or .redis file (or its stamp)."),
    pg: str = PG,
    redis: str = REDIS,
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask first."),
) -> None:
    """Put a backup back: pg_restore --clean of the database, RESTORE of every Redis key with
    its expiry (one that has passed since is left out). What the backup holds replaces what is
    there (tables, rows, keys); what it does not hold is kept: a table or a key created after
    the backup is still there afterwards (drop or delete it by hand if it must go).

    Example: reconciler restore backups/20261125120000.dump --auto-approve
    """
    from reconciler.api.servers import backup_files, restore  # deferred: start-up

    files = backup_files(backup_file)
    pg_url, redis_url = resolve_targets(pg, redis)
    names = ", ".join(p.name for p in files)
    question = (
        f"Restore {names}? What the backup holds replaces what the servers hold now; tables "
        "and keys it does not hold are kept."
    )
    if not ask_to_confirm(question, auto_approve):
        raise typer.Exit(ExitCode.ERROR)
    wanted_pg = pg_url if any(p.suffix == ".dump" for p in files) else None
    wanted_redis = redis_url if any(p.suffix == ".redis" for p in files) else None
    for line in restore(files, wanted_pg, wanted_redis):
        out_console().print(escape(line))
