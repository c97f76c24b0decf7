"""Which server to talk to, and connecting to it without ever printing a password.

Resolution order (ARCHITECTURE.md): the --pg flag, RECONCILER_PG_URL, DATABASE_URL, then the
chosen environment of reconciler.yaml (config.py), then the embedded dev servers started by
`reconciler dev up` in the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from reconciler.errors import ConnectionFailed, InputError

if TYPE_CHECKING:
    import psycopg

    from reconciler.config import Environment


def redact(url: str) -> str:
    """The URL with any password replaced by `***` (also a `password=` query parameter)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        creds, host = netloc.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in creds else f"{user}@{host}"
    query = "&".join(
        "password=***" if q.lower().startswith("password=") else q
        for q in parts.query.split("&")
        if q
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def resolve_targets(pg_flag: str | None, redis_flag: str | None) -> tuple[str | None, str | None]:
    """Which servers a run targets. Flags, when any is given, say exactly which (`--redis`
    alone skips Postgres); otherwise the environment; otherwise the dev servers."""
    if pg_flag or redis_flag:
        return pg_flag or None, redis_flag or None
    pg = os.environ.get("RECONCILER_PG_URL") or os.environ.get("DATABASE_URL")
    rd = os.environ.get("RECONCILER_REDIS_URL") or os.environ.get("REDIS_URL")
    if pg or rd:
        return pg, rd
    from reconciler.config import environment  # reconciler.yaml of the current directory

    env = environment(Path.cwd())
    if env is not None and env.fleet is not None:
        raise InputError(
            f"Environment {env.name!r} is a fleet of databases ({env.fleet.where}); only plan, "
            "apply and drift run over a fleet.",
            detail="Pass --pg URL to work on one of its databases.",
        )
    if env is not None and (env.pg or env.redis):
        return env.pg, env.redis
    from reconciler.dev import dev_dir, dev_status  # only here: it brings in redis-py

    if dev_dir(Path.cwd()).is_dir():
        st = dev_status(Path.cwd())
        if st.pg_url or st.redis_url:
            return st.pg_url, st.redis_url
    raise InputError(
        "No server given.",
        detail="Pass --pg URL and/or --redis URL, set RECONCILER_PG_URL / RECONCILER_REDIS_URL, "
        "or start the embedded servers with `reconciler dev up`.",
    )


def fleet_environment(pg_flag: str | None, redis_flag: str | None) -> Environment | None:
    """The chosen environment when a run without server flags or URL variables falls to a
    fleet (plan, apply and drift then run over every database of it); otherwise None."""
    if pg_flag or redis_flag:
        return None
    names = ("RECONCILER_PG_URL", "DATABASE_URL", "RECONCILER_REDIS_URL", "REDIS_URL")
    if any(os.environ.get(n) for n in names):
        return None
    from reconciler.config import environment

    env = environment(Path.cwd())
    return env if env is not None and env.fleet is not None else None


def resolve_pg_url(flag: str | None) -> str:
    """For commands that only speak to Postgres (state, lock)."""
    pg, _ = resolve_targets(flag, None)
    if not pg:
        raise InputError(
            "No PostgreSQL server given.",
            detail="Pass --pg URL, set RECONCILER_PG_URL, or start the embedded one with "
            "`reconciler dev up`.",
        )
    return pg


def connect_pg(url: str, *, command: str) -> psycopg.Connection:
    """An autocommit connection named after this run, so lock holders are identifiable."""
    import psycopg  # here, not at the top: a Redis-only run never loads the Postgres driver

    from reconciler.apply.appname import application_name

    if not url.startswith(("postgresql://", "postgres://")) and "=" not in url:
        raise InputError(f"Not a PostgreSQL URL: {redact(url)} (expected postgresql://…).")
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            application_name=application_name(command),
            connect_timeout=10,
        )
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        # libpq messages can echo the connection string; never pass a password through.
        reason = reason.replace(url, redact(url))
        raise ConnectionFailed(
            f"Cannot connect to PostgreSQL at {redact(url)}: {reason}",
            detail="Check the URL, that the server runs, and that it accepts this user.",
        ) from None


def target_info(conn: psycopg.Connection) -> dict[str, str]:
    """What identifies the database a plan was made for (no secrets)."""
    row = conn.execute(
        "SELECT current_database(), current_setting('server_version_num'), "
        "coalesce(host(inet_server_addr()), 'local'), coalesce(inet_server_port(), 0)"
    ).fetchone()
    assert row is not None
    return {
        "database": row[0],
        "server_version": row[1],
        "server": f"{row[2]}:{row[3]}",
    }
