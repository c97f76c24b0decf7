"""Launching a local server process: free loopback ports, live-pid checks and the server's log.

Owns: the one address servers listen on (HOST), picking ports (with retries when another process
takes one first), telling a live process of ours from a recycled pid, and reading the tail of a
server log to report why a start failed.

Must not: start, signal or stop any process (postgres.py and redis.py do), or know which server
it is helping.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "HOST",
    "STOP_TIMEOUT_S",
    "candidate_ports",
    "free_port",
    "log_size",
    "log_tail",
    "pid_alive",
    "port_is_free",
    "port_taken",
    "read_pid",
]

HOST = "127.0.0.1"
STOP_TIMEOUT_S = 30

_START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it
_LOG_TAIL_LINES = 15
_PORT_TAKEN_MARKERS = ("Address already in use", "could not bind", "Could not create server TCP")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def candidate_ports(port: int | None) -> Iterator[tuple[int, bool]]:
    """Ports to try, each with whether a failure may be retried on the next one."""
    if port is not None:
        yield port, False
        return
    for attempt in range(_START_ATTEMPTS):
        yield free_port(), attempt < _START_ATTEMPTS - 1


def port_taken(log_text: str) -> bool:
    """Whether a server log says the port was taken (the start may be retried on another)."""
    return any(marker in log_text for marker in _PORT_TAKEN_MARKERS)


def pid_alive(pid: int, *, name: str | None = None) -> bool:
    """Whether `pid` is a live (non-zombie) process, whose command line mentions `name` if given.

    The name check guards against a recycled pid in a stale pid or state file: we must never
    signal a process we did not start.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists but belongs to another user
    proc = Path(f"/proc/{pid}")
    try:
        # A daemon whose parent never reaps it lingers as a zombie; kill(pid, 0) still succeeds.
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes()
    except FileNotFoundError:
        return False  # exited between the two checks
    except (OSError, IndexError):
        return True  # no /proc (macOS): trust kill(pid, 0)
    if state in ("Z", "X"):
        return False
    return name is None or name.encode() in cmdline


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def log_tail(path: Path, offset: int = 0) -> str:
    """The last lines written to `path` after byte `offset` ("" when it cannot be read)."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-_LOG_TAIL_LINES:])


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
