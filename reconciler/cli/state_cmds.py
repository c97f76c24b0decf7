"""reconciler state list|show|history and reconciler lock status|force-unlock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from reconciler.cli.options import PG, REDIS, print_uncut
from reconciler.cli.root import app, out_console
from reconciler.connect import resolve_pg_url, resolve_targets
from reconciler.errors import ExitCode, InputError
from reconciler.model.words import counted

if TYPE_CHECKING:
    from reconciler.state.base import ApplyRecord

state_app = typer.Typer(help="Inspect what was applied, when and by whom.")
lock_app = typer.Typer(help="Inspect or break the apply lock.")
app.add_typer(state_app, name="state")
app.add_typer(lock_app, name="lock")


STATE_DIR = typer.Option(
    Path("state"), "--state-dir", help="The local state of Redis-only runs (when no --pg)."
)


def _state_target(pg: str | None, state_dir: Path) -> str | None:
    """The PostgreSQL URL whose state to read; None for the local file state of Redis-only
    runs, when no server is named and that state exists."""
    try:
        return resolve_pg_url(pg)
    except InputError:
        if not (state_dir / "meta.json").exists():
            raise
        return None


@state_app.command("list")
def state_list(pg: str = PG, state_dir: Path = STATE_DIR) -> None:
    """The managed objects recorded after the last apply or rollback.

    Example: reconciler state list --pg postgresql://127.0.0.1/app
    """
    from reconciler.api import records  # deferred: start-up

    entries = records.state_entries(_state_target(pg, state_dir), state_dir)
    con = out_console()
    for e in entries:
        con.print(f"{escape(e.address)}  [dim]{e.version}[/]", highlight=False)
    con.print(f"{counted(len(entries), 'object')}.")


@state_app.command("show")
def state_show(
    address: str,
    pg: str = PG,
    state_dir: Path = STATE_DIR,
    as_json: bool = typer.Option(
        True, "--json", help="JSON (the only form: accepted so scripts can say it)."
    ),
) -> None:
    """The recorded definition of one object, as JSON.

    Example: reconciler state show pg.table.public.users
    """
    from reconciler.api import records  # deferred: start-up

    definition = records.state_object(address, _state_target(pg, state_dir), state_dir)
    print(json.dumps(definition, indent=2, ensure_ascii=False))


@state_app.command("history")
def state_history(
    pg: str = PG,
    state_dir: Path = STATE_DIR,
    limit: int = typer.Option(20, "--limit", min=1, help="How many rows, newest first."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Applies and rollbacks, newest first, and interrupted or failed attempts.

    Example: reconciler state history --limit 5 --json
    """
    from reconciler.api import records  # deferred: start-up

    rows, attempts = records.state_history(_state_target(pg, state_dir), state_dir, limit)
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "version": r.version,
                        "slug": r.slug,
                        "direction": r.direction,
                        "status": r.status,
                        "finished_at": r.finished_at.isoformat(),
                        "duration_ms": r.duration_ms,
                        "user": r.os_user,
                        "host": r.host,
                        "changes": r.change_count,
                        **({"partial": r.plan["partial"]} if r.plan.get("partial") else {}),
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    con = out_console()
    # The version is what `rollback --version` takes: never cut, nor anything else.
    print_uncut(
        ("version", "plan", "direction", "status", "finished", "by", "changes", "ms"),
        [
            (
                r.version,
                escape(r.slug),
                r.direction,
                escape(_status(r)),
                r.finished_at.strftime("%Y-%m-%d %H:%M:%S"),
                escape(f"{r.os_user}@{r.host}"),
                str(r.change_count),
                str(r.duration_ms),
            )
            for r in rows
        ],
        lambda i: [
            f"{rows[i].version}  {escape(rows[i].slug)}",
            f"  {rows[i].direction}, {escape(_status(rows[i]))}, "
            f"{rows[i].finished_at:%Y-%m-%d %H:%M:%S} by {escape(rows[i].os_user)}@"
            f"{escape(rows[i].host)}, {counted(rows[i].change_count, 'change')}, "
            f"{rows[i].duration_ms} ms",
        ],
    )
    for a in attempts:
        con.print(
            f"[red]{a.status}[/] attempt {a.id}: {a.direction} {a.version} at "
            f"{a.started_at:%Y-%m-%d %H:%M:%S} by {a.os_user}@{a.host}"
            + (f": {escape(a.error)}" if a.error else "")
        )


def _status(r: ApplyRecord) -> str:
    part = r.plan.get("partial")
    if not part:
        return r.status
    of = counted(part["of_changes"], "change")
    if "finished" not in part or part["finished"] == part["changes"]:  # (recorded before it)
        return f"{r.status} (partial: {part['changes']} of {of})"
    begun = part["changes"] - part["finished"]
    return f"{r.status} (partial: {part['finished']} of {of} done, {begun} begun)"


def _lock_targets(pg: str | None, redis: str | None) -> tuple[str | None, str | None]:
    pg_url, redis_url = resolve_targets(pg, redis)
    if not pg_url and not redis_url:
        resolve_pg_url(None)  # says which flags or variables would name a server
    return pg_url, redis_url


@lock_app.command("status")
def lock_status(pg: str = PG, redis: str = REDIS) -> None:
    """Who holds the apply lock of each target (exit 0 free, 2 held).

    Example: reconciler lock status --pg postgresql://127.0.0.1/app --redis redis://127.0.0.1/0
    """
    from reconciler.api import records  # deferred: start-up

    pg_url, redis_url = _lock_targets(pg, redis)
    status = records.lock_status(pg_url, redis_url)
    lines = []
    if pg_url:
        holder = status.pg
        what = f"locked by {escape(holder.describe())}" if holder else "free"
        lines.append(("PostgreSQL: " if redis_url else "The lock is ") + what + ".")
    if redis_url:
        r = status.redis
        if r is None:
            lines.append("Redis: free.")
        else:
            lease = f", lease {max(0, r['ttl_ms']) / 1000:.1f} s left" if r["ttl_ms"] >= 0 else ""
            ident = f"; id {r['token']}" if r.get("token") else ""
            lines.append(f"Redis: locked by {escape(status.redis_holder())}{lease}{ident}.")
    con = out_console()
    for line in lines:
        con.print(line)
    if status.held:
        raise typer.Exit(ExitCode.CHANGES)


@lock_app.command("force-unlock")
def lock_force_unlock(
    holder_id: str = typer.Argument(
        ...,
        metavar="ID",
        help="What `lock status` shows: the backend pid (PostgreSQL) or the id (Redis).",
    ),
    pg: str = PG,
    redis: str = REDIS,
) -> None:
    """Break the lock of a run that is gone: end the PostgreSQL session holding it (Postgres
    rolls its transaction back), or delete the Redis lock key while ID still holds it.

    Example: reconciler lock force-unlock 4242 --pg postgresql://127.0.0.1/app
    """
    from reconciler.api import records  # deferred: start-up

    pg_url, redis_url = _lock_targets(pg, redis)
    if pg_url and redis_url:
        if pg is None and redis is None:  # both came from the dev servers or the environment
            raise InputError(
                "Both a PostgreSQL and a Redis are configured here: say which one's lock to "
                "break with --pg or --redis (ID names one holder)."
            )
        raise InputError("Give --pg or --redis, not both: ID names one holder.")
    if redis_url:
        records.force_unlock_redis(redis_url, holder_id)
        out_console().print("Deleted the Redis lock key; the lock is free.")
        return
    backend_pid = records.force_unlock_pg(pg_url, holder_id)
    out_console().print(f"Ended backend {backend_pid}; the lock is free.")
