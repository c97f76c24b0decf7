"""`python -m bench --smoke --no-write` runs end to end: every figure measured and checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIGURE_NAMES = (
    "pg_dump",
    "no-op plan",
    "export",
    "full plan from",
    "apply into empty",
    "psql -1 -f of the",
    "catalog queries",
)


def test_bench_smoke_measures_every_figure() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--no-write"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    for name in FIGURE_NAMES:
        assert name in result.stdout, f"{name!r} missing from the bench output:\n{output[-3000:]}"
    assert "bench: ok" in result.stdout
    assert "wrote " not in result.stdout  # --no-write: neither results nor docs
