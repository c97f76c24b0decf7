"""What the numbers were measured on: cores, memory, versions, the code's commit."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("psycopg", "PyYAML", "deepdiff", "pglast", "networkx", "pydantic", "typer", "rich")


def _meminfo_mib() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    try:
        import yaml

        out["libyaml available"] = str(bool(yaml.__with_libyaml__))
    except ImportError:
        pass
    return out


def redis_packages() -> dict[str, str | None]:
    """The client libraries `reconciler plan --redis` scans with."""
    out: dict[str, str | None] = {}
    for key, name in (("redis_py", "redis"), ("hiredis", "hiredis")):
        try:
            out[key] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[key] = None
    return out


def describe(
    project_root: Path, server_version: str | None = None, pg_dump_version: str | None = None
) -> dict[str, Any]:
    """The machine and the code; the Postgres versions are filled in by the Postgres part."""
    status = _git(project_root, "status", "--porcelain")
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_mib": _meminfo_mib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "postgresql": server_version,
        "pg_dump": pg_dump_version,
        "packages": _versions(),
        "git_commit": _git(project_root, "rev-parse", "--short", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
    }
