"""What every command pays before it does anything: the CLI's own import loads no database
driver, SQL parser, validation library or graph library (docs/architecture.md, start-up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("psycopg", "pglast", "pydantic", "networkx", "redis", "yaml")


def test_the_cli_and_its_help_load_no_heavy_library():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Usage" in done.stdout, done.stderr
    imported = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "reconciler.cli" in imported  # the probe sees the imports at all
    assert not [m for m in HEAVY if m in imported], sorted(m for m in HEAVY if m in imported)
