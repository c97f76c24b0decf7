"""`make db_shell ARGS='-c "select 1"'`: the target's recipe passes ARGS on to psql, and the
help names it. The recipe is run by bash as make would expand it (make itself is not run)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from reconciler.dev import find_pg_bindir

REPO = Path(__file__).resolve().parents[2]


def _recipe(target: str) -> str:
    text = (REPO / "Makefile").read_text()
    found = re.search(rf"^{target}:[^\n]*\n\t(.+)$", text, re.M)
    assert found, f"no {target} target"
    return found.group(1)


def _as_make_expands(recipe: str, variables: dict[str, str]) -> str:
    for name, value in variables.items():
        recipe = recipe.replace(f"$({name})", value)
    assert "$(" not in recipe.replace("$$(", ""), recipe  # every make variable given
    return recipe.lstrip("@").replace("$$", "$")


def test_db_shell_passes_args_to_psql(pg_url: str) -> None:
    line = _as_make_expands(_recipe("db_shell"), {"PG_URL": pg_url, "ARGS": '-c "select 40+2"'})
    env = {**os.environ, "PATH": f"{find_pg_bindir()}{os.pathsep}{os.environ['PATH']}"}
    r = subprocess.run(["bash", "-c", line], capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\s*42$", r.stdout, re.M), r.stdout


def test_make_help_shows_how_to_pass_args() -> None:
    help_lines = re.search(r"^help:\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M)
    assert help_lines and "db_shell [ARGS=" in help_lines.group(1)
