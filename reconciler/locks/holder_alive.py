"""Whether a lock holder's OS process still runs, when that can be known from here.

Owns: the one check `host is this host and pid does not exist` that lets a lock description
say "which is no longer running" instead of implying a live run.

Must not: decide anything about the lock (never frees or steals one), or guess about another
host's processes: a holder on another host, or with no host/pid, is "unknown" (None).
"""

from __future__ import annotations

import os
import socket


def holder_gone(host: object, pid: object) -> bool | None:
    """True when `pid` names no process on this host and `host` is this host's name; False
    when it is running here; None when it cannot be told (another host, no pid)."""
    if not isinstance(host, str) or host != socket.gethostname():
        return None
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return None
    try:
        os.kill(pid, 0)  # signal 0: only the existence and permission checks
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, owned by someone else
        return False
    except OSError:
        return None
    return False
