"""The PostgreSQL client programs (pg_dump, pg_restore, psql) as Reconciler runs them: the
ones next to the server binaries it finds (so their version matches), else those on PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from reconciler.connect import scrub
from reconciler.errors import ReconcilerError


def client_binary(name: str) -> str:
    """The path of `name` (pg_dump, pg_restore, psql)."""
    from reconciler.dev.postgres import find_pg_bindir  # deferred: start-up: redis

    try:
        candidate = find_pg_bindir() / name
        if candidate.exists():
            return str(candidate)
    except ReconcilerError:
        pass
    found = shutil.which(name)
    if found is None:
        raise ReconcilerError(
            f"`{name}` was not found: this needs the PostgreSQL client tools.",
            detail="Run `make setup`, or install the `postgresql-client` package.",
        )
    return found


def run_client(argv: list[str], *, stdin: str | None = None) -> str:
    """Its standard output; ReconcilerError with the last line of its errors (secrets hidden)
    when it fails. A password of a connection string in `argv` goes to the program through
    PGPASSWORD instead: a command line is readable by every local user (ps, /proc)."""

    shown, password = _without_password(argv)
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if password is not None:
        env["PGPASSWORD"] = password
    r = subprocess.run(shown, input=stdin, capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        lines = r.stderr.strip().splitlines() or ["failed"]
        # the first line saying "error" names the cause; details and queries follow it
        reason = next((x for x in lines if "error" in x.lower()), lines[-1])
        raise ReconcilerError(f"{Path(argv[0]).name} failed: {scrub(reason, *argv)}")
    return r.stdout


def _without_password(argv: list[str]) -> tuple[list[str], str | None]:
    """`argv` with the password taken out of every connection string (`--dbname=…`, the word
    after `-d`/`--dbname`, a bare URL), and that password."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    out: list[str] = []
    password: str | None = None
    for i, arg in enumerate(argv):
        prefix, value = ("--dbname=", arg[9:]) if arg.startswith("--dbname=") else ("", arg)
        follows_flag = i > 0 and argv[i - 1] in ("-d", "--dbname")
        if not (prefix or follows_flag or "://" in value):
            out.append(arg)
            continue
        try:
            params = conninfo_to_dict(value)
        except Exception:  # not a connection string after all: passed as it is
            out.append(arg)
            continue
        if "password" in params:
            password = str(params.pop("password"))
            value = make_conninfo("", **params)
        out.append(prefix + value)
    return out, password
