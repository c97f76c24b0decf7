"""What the commands share: their common options, confirmation, and the notes and skipped keys
a run reports."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from reconciler.apply.timeouts import Timeouts
from reconciler.cli.root import err_console, out_console
from reconciler.errors import InputError, Refused
from reconciler.model.words import counted
from reconciler.project.config import PG_DURATION, setting

PG = typer.Option(None, "--pg", help="PostgreSQL URL (else RECONCILER_PG_URL, DATABASE_URL).")
REDIS = typer.Option(
    None, "--redis", help="Redis URL (else RECONCILER_REDIS_URL, REDIS_URL); alone: Redis only."
)
SCHEMAS = typer.Option(Path("schemas"), "--schemas", help="Directory of desired-state YAML.")
DROP_MODE = typer.Option(
    "auto",
    "--drop-mode",
    help="auto: dropped tables/columns holding rows are kept in reconciler_trash; "
    "quarantine: always kept; drop: never kept.",
)
LARGE_ROWS = typer.Option(
    1_000_000,
    "--large-rows",
    min=0,
    help="Tables with this many rows (estimate) change column types and names in phases "
    "(expand/backfill/contract) unless their YAML says `large: false`.",
)
IN_BATCHES = typer.Option(
    False,
    "--in-batches",
    help="When the statements would lock more relations than the server's lock table holds, "
    "run them in several recorded transactions (all undone if one fails) instead of refusing.",
)
DEFAULTS = Timeouts()  # what an option left unset falls back to, after reconciler.yaml
TARGET = typer.Option(
    None,
    "--target",
    help="Only the changes of this address (a prefix such as pg.table.public.users, or a glob "
    "such as 'pg.*.public.users*'), with what they need first; repeatable.",
)
LOCK_TIMEOUT = typer.Option(
    None,
    "--lock-timeout",
    min=0,
    help="Seconds to wait for another run's lock before giving up (default 0, or the "
    "environment's lock_timeout).",
)


def duration(option: str, flag: str | None, default: str) -> str:
    # Checked before any connection: a bad one used to fail mid-apply, recording the state.
    value = setting(option.lstrip("-").replace("-", "_"), flag, default)
    if not PG_DURATION.match(str(value).strip()):
        raise InputError(
            f"{option} {value!r} is not a duration PostgreSQL takes; write a number and a unit, "
            "like 500ms, 5s, 2min or 1h (0 turns the limit off)."
        )
    return str(value)


def ask_to_confirm(question: str, auto_approve: bool) -> bool:
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        raise Refused(
            "Confirmation needed but there is no terminal; pass --auto-approve to proceed."
        )
    return typer.confirm(question, default=False)


def print_skipped(skipped: list[dict[str, str]], between: str) -> None:
    """Redis keys a run left alone because they changed since they were planned."""
    if not skipped:
        return
    con = out_console()
    con.print(
        f"[yellow]{counted(len(skipped), 'key')} skipped[/]: they changed between {between} "
        "(deleted, written again, or their TTL or type changed), so they were left as they are:"
    )
    for s in skipped[:20]:
        con.print(f"  - {escape(s['address'])}: {escape(s['key'])}", highlight=False)
    if len(skipped) > 20:
        con.print(f"  … and {len(skipped) - 20:,} more (see the log)")


def print_notes(notes: list[str]) -> None:
    """What a user must read besides the result (an earlier run's outcome), on stderr."""
    con = err_console()
    for note in notes:
        con.print(f"[yellow]Note:[/] {escape(note)}")


def print_uncut(
    columns: tuple[str, ...], rows: list[tuple[str, ...]], block: Callable[[int], list[str]]
) -> None:
    """A table of `rows` (markup escaped) when it fits the terminal whole; else `block(i)`'s
    lines for each row. Either way no value is cut or folded: a version, a trash table's name
    is what the next command takes."""
    from rich.measure import Measurement  # deferred: start-up: only a table shown loads it
    from rich.table import Table  # deferred: start-up: as above

    con = out_console()
    table = Table()
    for name in columns:
        table.add_column(name, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    if Measurement.get(con, con.options.update_width(10_000), table).maximum <= con.width:
        con.print(table)
        return
    for i in range(len(rows)):
        for line in block(i):
            con.print(line, highlight=False)


# --- a fleet's options (cli/fleet_view.py runs the fleet) -----------------------------------

PARALLEL = typer.Option(
    None,
    "--parallel",
    min=1,
    help="Fleet: databases worked on at once (default 4, or the environment's `parallel`).",
)
CANARY = typer.Option(
    None,
    "--canary",
    min=0,
    help="Fleet: apply to this many databases first, one by one; the rest only when they all "
    "succeeded (default 0, or the environment's `canary`).",
)
CONTINUE = typer.Option(
    False,
    "--continue-on-error",
    help="Fleet: go on rolling out after a database failed (a canary failure still stops it).",
)


def refuse_fleet_options(**given: Any) -> None:
    """Fleet options on a run with one target are a mistake worth one sentence."""
    named = [f"--{k.replace('_', '-')}" for k, v in given.items() if v not in (None, False)]
    if named:
        raise InputError(
            f"{', '.join(named)} only applies to a fleet (an environment of reconciler.yaml "
            "naming many databases)."
        )
