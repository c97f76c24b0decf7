"""One command as a whole process: wall time, peak RSS, exit code and output.

Wall time is time.perf_counter() around fork+exec and the wait. Peak RSS is the command's
ru_maxrss as GNU time (/usr/bin/time -f %M) reports it. Not os.wait4() on our own child, nor
RUSAGE_CHILDREN deltas: Linux keeps the high-water mark of the address space a child had
before exec, and a child forked (or vforked) from this Python process starts with this
process's RSS, so every command, even `true`, would read ~50 MiB. GNU time is a small C
program whose fork carries ~1 MiB. Without it, os.wait4() is the fallback (flagged in the
results as an upper bound). Output goes to temporary files, never pipes, so a chatty command
cannot block on a full pipe while we wait for it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT_S = 900.0
GNU_TIME = "/usr/bin/time"


def rss_method() -> str:
    """How peak RSS is measured on this machine (recorded with the results)."""
    return "GNU time %M" if _gnu_time() else "os.wait4 ru_maxrss (includes the parent's RSS)"


def _gnu_time() -> bool:
    return os.access(GNU_TIME, os.X_OK)


@dataclass(frozen=True, slots=True)
class ProcessRun:
    argv: tuple[str, ...]
    returncode: int
    wall_s: float
    peak_rss_kib: int
    cpu_s: float  # user + system CPU time of the command (and its children)
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def failure(self) -> str:
        """One line saying how the process failed (for reports)."""
        if self.timed_out:
            return f"timed out after {self.wall_s:.0f} s"
        tail = (self.stderr.strip() or self.stdout.strip()).splitlines()[-3:]
        return f"exit {self.returncode}: " + " | ".join(tail)


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    stdin: Path | None = None,
) -> ProcessRun:
    """Run `argv` to completion; `stdin` is a file fed to it (else /dev/null)."""
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as out,
        tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as err,
        tempfile.NamedTemporaryFile("r", encoding="utf-8", suffix=".rss") as rss,
        stdin.open("rb") if stdin is not None else contextlib.nullcontext() as source,
    ):
        full = list(argv)
        if _gnu_time():
            full = [GNU_TIME, "-f", "%M %U %S", "-o", rss.name, *full]
        start = time.perf_counter()
        proc = subprocess.Popen(
            full,
            stdout=out,
            stderr=err,
            stdin=source if source is not None else subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,  # its own process group: a timeout kills time and command
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        reported = _from_time(rss.read()) if _gnu_time() else None
        peak, cpu = reported or (int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime)
        return ProcessRun(
            argv=tuple(argv),
            returncode=proc.returncode,
            wall_s=wall,
            peak_rss_kib=peak,  # KiB on Linux
            cpu_s=cpu,
            stdout=out.read(),
            stderr=err.read(),
            timed_out=timed_out.is_set(),
        )


def _from_time(text: str) -> tuple[int, float] | None:
    """(peak RSS KiB, user + system s) from GNU time's "%M %U %S" line."""
    # It writes "Command exited with non-zero status N" lines before the format's line.
    lines = text.strip().splitlines()
    try:
        rss, user, system = lines[-1].split()
        return int(rss), float(user) + float(system)
    except (IndexError, ValueError):
        return None


@dataclass(slots=True)
class Figure:
    """Repeated runs of one measured command."""

    key: str
    label: str
    walls: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # 1-minute load average, before and after

    def add(self, run: ProcessRun) -> None:
        self.walls.append(run.wall_s)
        self.rss_kib.append(run.peak_rss_kib)
        self.cpu.append(run.cpu_s)

    def record(self, run: ProcessRun, problem: str | None) -> bool:
        """A checked run: its figures when it ran and gave the right result, else the reason
        as an error of this figure. Whether it counted."""
        if not run.ok:
            self.errors.append(run.failure())
        elif problem is not None:
            self.errors.append(f"wrong result: {problem}")
        else:
            self.add(run)
            return True
        return False

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.walls)

    @property
    def median(self) -> float | None:
        return statistics.median(self.walls) if self.walls else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "ok": self.ok,
            "runs": len(self.walls),
            "median_s": self.median,
            "min_s": min(self.walls) if self.walls else None,
            "max_s": max(self.walls) if self.walls else None,
            "wall_s": [round(w, 4) for w in self.walls],
            "peak_rss_mib": round(max(self.rss_kib) / 1024, 1) if self.rss_kib else None,
            "median_rss_mib": (
                round(statistics.median(self.rss_kib) / 1024, 1) if self.rss_kib else None
            ),
            "median_cpu_s": round(statistics.median(self.cpu), 3) if self.cpu else None,
            "load_1min": [round(x, 2) for x in self.load],
            "errors": list(self.errors),
        }
