"""reconciler dev up|down|status|url: embedded throwaway PostgreSQL and Redis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from reconciler.cli.root import app, err_console, out_console
from reconciler.errors import ExitCode

dev_app = typer.Typer(help="Embedded throwaway PostgreSQL + Redis for demos and tests.")
app.add_typer(dev_app, name="dev")


def _show(status: Any) -> None:
    con = out_console()
    con.print(f"postgres: {status.pg_url if status.pg_running else 'not running'}")
    con.print(f"redis:    {status.redis_url if status.redis_running else 'not running'}")


@dev_app.command("up")
def up() -> None:
    """Start the dev servers (idempotent) under .reconciler/dev/ and print their URLs.

    They belong to the project: .reconciler/dev/ is made in the nearest folder upwards holding
    reconciler.yaml (else here), and every command finds them from any subfolder of it.

    Example: reconciler dev up && reconciler plan
    """
    from reconciler.api import servers  # deferred: start-up

    _show(servers.dev_up(servers.dev_root(Path.cwd())))


@dev_app.command("down")
def down() -> None:
    """Stop the dev servers and delete their data (nothing is saved on the way out: PostgreSQL
    stops in immediate mode, Redis with SHUTDOWN NOSAVE NOW). A stop that takes more than an
    instant says so on stderr.

    Example: reconciler dev down
    """
    from reconciler.api import servers  # deferred: start-up

    err = err_console()
    root = servers.dev_root(Path.cwd())
    before = servers.dev_status(root)
    servers.dev_down(root, progress=lambda line: err.print(line))
    if before.pg_running or before.redis_running:
        out_console().print("Dev servers stopped and removed.")
    else:
        out_console().print(f"No dev server was running for {root}; its data (if any) is removed.")


@dev_app.command("status")
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Show whether the dev servers run (exit 1 when not).

    Example: reconciler dev status --json
    """
    from reconciler.api import servers  # deferred: start-up

    st = servers.dev_status(servers.dev_root(Path.cwd()))
    if as_json:
        print(json.dumps(st.to_dict(), indent=2))
    else:
        _show(st)
    if not st.running:
        raise typer.Exit(ExitCode.ERROR)


@dev_app.command("url")
def url(
    pg: bool = typer.Option(False, "--pg", help="Only the PostgreSQL URL."),
    redis: bool = typer.Option(False, "--redis", help="Only the Redis URL."),
) -> None:
    """Print the dev server URL(s), for scripts: `psql "$(reconciler dev url --pg)"`.

    Example: psql "$(reconciler dev url --pg)"
    """
    from reconciler.api import servers  # deferred: start-up

    st = servers.dev_status(servers.dev_root(Path.cwd()))
    if not st.running:
        raise typer.Exit(ExitCode.ERROR)
    if pg or not redis:
        print(st.pg_url)
    if redis or not pg:
        print(st.redis_url)
