"""Whether the process that ran an attempt is gone, so that FileState reads it 'interrupted'.

Owns: the identity recorded with an attempt beyond host and pid (the process start time and
the boot id, `process_identity`), and judging from it whether that process still runs
(`process_gone`).

Must not: read or write state documents (file.py does).

'interrupted': an attempt still 'running' whose process is gone. Judged on the same host only
(the recorded hostname is ours): the pid no longer exists, is a zombie, or now belongs to a
process that started at another time (pid reuse; Linux /proc) or in another boot. An attempt
from another host stays 'running': this machine cannot tell.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
_UNKNOWN = -1  # _proc_start: /proc cannot tell (not Linux, or unreadable)


def process_identity() -> dict[str, Any]:
    """`proc_start` and `boot_id` of this process, to record with its attempt (None: unknown)."""
    start = _proc_start(os.getpid())
    return {"proc_start": start if start != _UNKNOWN else None, "boot_id": _boot_id()}


def process_gone(doc: Mapping[str, Any]) -> bool:
    """Whether the process an attempt document names (host, os_pid, and the fields of
    `process_identity`) is known to be gone."""
    if doc.get("host") != socket.gethostname() or not isinstance(doc.get("os_pid"), int):
        return False  # another machine's process: we cannot tell
    boot = _boot_id()
    if boot and doc.get("boot_id") and doc["boot_id"] != boot:
        return True
    pid = doc["os_pid"]
    start = _proc_start(pid)
    if start is None:
        return True
    if start != _UNKNOWN:
        recorded = doc.get("proc_start")
        return isinstance(recorded, int) and recorded >= 0 and recorded != start
    try:  # no /proc: only whether the pid exists
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _boot_id() -> str | None:
    try:
        return _BOOT_ID.read_text().strip() or None
    except OSError:
        return None


def _proc_start(pid: int) -> int | None:
    """Start time of a live process (clock ticks since boot, from /proc/<pid>/stat); None when
    there is no such live process (or only a zombie); _UNKNOWN when /proc cannot tell."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return None if Path("/proc/self/stat").exists() else _UNKNOWN
    except OSError:
        return _UNKNOWN
    rest = raw[raw.rfind(b")") + 2 :].split()  # fields 3.. (the name may contain anything)
    if not rest or rest[0] in (b"Z", b"X"):
        return None
    try:
        return int(rest[19])  # field 22: starttime
    except (IndexError, ValueError):
        return _UNKNOWN
