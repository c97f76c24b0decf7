"""The PostgreSQL client programs (pg_dump, pg_restore, psql) as Reconciler runs them: the
ones next to the server binaries it finds (so their version matches), else those on PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from reconciler.errors import ReconcilerError


def client_binary(name: str) -> str:
    """The path of `name` (pg_dump, pg_restore, psql)."""
    from reconciler.devservers.postgres import find_pg_bindir

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
    """Its standard output; ReconcilerError with the last line of its errors (any URL of the
    command line redacted) when it fails."""
    from reconciler.connect import redact

    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        lines = r.stderr.strip().splitlines() or ["failed"]
        # the first line saying "error" names the cause; details and queries follow it
        reason = next((x for x in lines if "error" in x.lower()), lines[-1])
        for arg in argv:
            url = arg.split("=", 1)[1] if arg.startswith("--dbname=") else arg
            if "://" in url:
                reason = reason.replace(url, redact(url))
        raise ReconcilerError(f"{Path(argv[0]).name} failed: {reason}")
    return r.stdout
