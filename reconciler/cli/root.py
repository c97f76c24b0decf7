"""The typer app itself: its root options (--debug, --env, --no-color, --version), the consoles
every command prints on, and how an error is shown.

Owns: `app`, the run's CLI options (`_debug`, `_plain`, reset by main() when a run ends),
`err_console` / `out_console`, `report_error`. The command modules register on `app`;
reconciler/cli/__init__.py imports them and runs it (main, run).

Must not: do any command's work.
"""

from __future__ import annotations

import copy
import logging
import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from reconciler import __version__
from reconciler.errors import ReconcilerError
from reconciler.project import config

app = typer.Typer(
    name="reconciler",
    help="Keep PostgreSQL schemas and Redis keyspaces at a desired state written in YAML.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    pretty_exceptions_enable=False,
)

_debug = {"on": False}
_plain = {"on": False}  # --no-color of this run


def app_for(args: list[str]) -> typer.Typer:
    """The app with only the command or group that `args` begin with, when they begin with
    the name of one: typer turns the parameters of every command it holds into click's on
    each run (7 ms for all of them, 1 ms for one). With a root option first (whose value
    could look like a name), an unknown name or none at all, the whole app."""
    if not args or args[0].startswith("-"):
        return app
    name = args[0]
    commands = [c for c in app.registered_commands if _name_of(c) == name]
    groups = [g for g in app.registered_groups if (g.name or g.typer_instance.info.name) == name]
    if not commands and not groups:
        return app
    slim = copy.copy(app)  # the same root options (its callback), the same settings
    slim.registered_commands, slim.registered_groups = commands, groups
    return slim


def _name_of(command: typer.models.CommandInfo) -> str | None:
    """The name typer gives a command: its own, else its function's, dashed."""
    if command.name:
        return command.name
    return typer.main.get_command_name(command.callback.__name__) if command.callback else None


def _print_version(value: bool) -> None:
    if value:
        print(f"reconciler {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks on errors (also written after the command)."
    ),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version."
    ),
    env: str | None = typer.Option(
        None,
        "--env",
        help="Environment of reconciler.yaml to use (else RECONCILER_ENV, else its default).",
    ),
    no_color: bool = typer.Option(
        False, "--no-color", help="Plain text even on a terminal (as NO_COLOR=1 does)."
    ),
) -> None:
    _plain["on"] = no_color  # every console created after this is plain
    plain_help()  # and typer's, for a command's --help
    config.load()  # a bad reconciler.yaml is refused before any command does anything
    _debug["on"] = debug
    config.choose_environment(env)
    if debug:
        logging.getLogger("psycopg").setLevel(logging.NOTSET)


def plain() -> bool:
    """No colour, style or progress display: --no-color or NO_COLOR (any non-empty value)."""
    return _plain["on"] or bool(os.environ.get("NO_COLOR"))


def plain_help() -> None:
    """typer's help and usage text, printed before the root options are read: no escape either
    (its consoles take no_color, which still writes bold)."""
    wanted = plain() or "--no-color" in sys.argv[1:]
    if "typer.rich_utils" not in sys.modules and not _may_style():
        return  # a pipe: rich styles nothing there, and its help module costs ~50 ms to load
    if wanted or "typer.rich_utils" in sys.modules:
        from typer import rich_utils

        rich_utils.COLOR_SYSTEM = None if wanted else "auto"


def _may_style() -> bool:
    """Whether rich may write escape sequences: a terminal, or one forced by the environment."""
    forced = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
    return sys.stdout.isatty() or sys.stderr.isatty() or any(os.environ.get(v) for v in forced)


def _console(*, stderr: bool) -> Console:
    # rich's no_color drops colours but keeps bold, dim and underline: no colour system at all
    # writes no escape sequence.
    colours = None if plain() else "auto"
    return Console(
        stderr=stderr, highlight=False, soft_wrap=True, emoji=False, color_system=colours
    )


def err_console() -> Console:
    return _console(stderr=True)


def out_console() -> Console:
    return _console(stderr=False)


def report_error(exc: ReconcilerError) -> None:
    con = err_console()
    con.print(f"[bold red]Error:[/] {escape(str(exc))}")
    for p in exc.problems:
        con.print(f"  {escape(str(p))}")
    if exc.detail:
        con.print(escape(exc.detail))
