"""Peer tools installed for comparison into bench/.peers (a venv of their own, git-ignored).

Only when pip can fetch them; otherwise the figure is skipped with a message, never faked.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

PEERS = Path(__file__).resolve().parent / ".peers"


@functools.cache
def migra() -> Path | None:
    """The migra executable, installed on first use; None (and why, on stderr) if it cannot be."""
    exe = PEERS / "bin" / "migra"
    if exe.exists():
        return exe
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True, capture_output=True)
        pip = [str(PEERS / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run(
            [*pip, "migra", "psycopg2-binary"], check=True, capture_output=True, timeout=300
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(
            f"bench: migra skipped, it could not be installed into {PEERS}: {exc}", file=sys.stderr
        )
        return None
    return exe if exe.exists() else None
