"""Who does something: the OS process a state row, a lock's note and a connection's name
record (host, pid, user).

Owns: Actor. Kept apart from base.py's record types, so that connecting (which names the
connection after it, connect/appname.py) loads none of them.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass


def os_user() -> str:
    """The OS user running this process (its uid when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # containers often run as a uid with no passwd entry
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


@dataclass(frozen=True, slots=True)
class Actor:
    """The OS process doing something: what state rows and the lock note record as "who"."""

    host: str
    pid: int
    user: str

    @classmethod
    def current(cls) -> Actor:
        # Read each time, not cached: a forked child has its own pid.
        return cls(host=socket.gethostname(), pid=os.getpid(), user=os_user())
