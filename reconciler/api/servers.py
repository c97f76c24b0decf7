"""The servers themselves: backups and restores, Redis health, and the dev servers.

Owns: the library entry points of `backup`, `restore`, `redis health` and `dev up/down/status/
url`. The work is done where it belongs (usecases/backup.py, usecases/redis_health.py, dev/);
this module is where a caller finds it, next to the rest of the API.

Must not: print or prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler import dev
from reconciler.usecases.backup import backup, backup_files, restore
from reconciler.usecases.redis_health import HealthReport, HealthThresholds, check_health

__all__ = [
    "HealthReport",
    "HealthThresholds",
    "backup",
    "backup_files",
    "dev_down",
    "dev_root",
    "dev_status",
    "dev_up",
    "redis_health",
    "restore",
]

redis_health = check_health  # PING latency, memory, evictions, persistence, role of one URL


def dev_root(start: Path) -> Path:
    """The project folder whose dev servers a command run in `start` uses (dev.find_root)."""
    return dev.find_root(start)


def dev_up(root: Path) -> dev.DevStatus:
    """Start the dev servers of the project at `root` (idempotent); their status."""
    return dev.dev_up(root)


def dev_down(root: Path, *, progress: Callable[[str], None] | None = None) -> None:
    """Stop the dev servers of the project at `root` and delete their data; a stop that takes
    more than an instant is said to `progress`."""
    dev.dev_down(root, progress=progress)


def dev_status(root: Path) -> dev.DevStatus:
    """Whether the dev servers of the project at `root` run, and their URLs."""
    return dev.dev_status(root)
