"""The PostgreSQL client programs (pg_dump, pg_restore, psql) as Reconciler runs them: the
ones next to the server binaries it finds (so their version matches), else those on PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from reconciler.connect import CONNECT_TIMEOUT_S, scrub
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
    """Its standard output; ReconcilerError with the cause of its errors and the server's
    DETAIL and HINT (secrets hidden) when it fails. A password of a connection string in
    `argv` goes to the program through PGPASSWORD instead: a command line is readable by every
    local user (ps, /proc)."""

    shown, password = _without_password(argv)
    env = {"PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S), **os.environ}  # the user's, if given
    if password is not None:
        env["PGPASSWORD"] = password
    r = subprocess.run(shown, input=stdin, capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        raise ReconcilerError(f"{Path(argv[0]).name} failed: {scrub(_reason(r.stderr), *argv)}")
    return r.stdout


def _reason(stderr: str) -> str:
    """The first line saying "error" (it names the cause), with the server's DETAIL and HINT
    lines after it (which object depends on what, what to do); the last line when none does."""
    lines = [x.strip() for x in stderr.strip().splitlines() if x.strip()] or ["failed"]
    at = next((i for i, x in enumerate(lines) if "error" in x.lower()), len(lines) - 1)
    more = [x for x in lines[at + 1 :] if x.startswith(("DETAIL:", "HINT:"))]
    return " ".join(" ".join(x.split()) for x in [lines[at], *more])


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
