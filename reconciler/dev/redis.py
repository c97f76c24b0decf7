"""An embedded throwaway Redis: find redis-server, start it daemonized on 127.0.0.1, stop it.

Owns: locating redis-server, starting a non-persisting instance (no RDB saves, no AOF) with its
pid and log files in a work directory, checking that the server answering on the port is the
process we started, and RedisServer, which any process knowing (dir, port, pid) can stop.

Must not: listen on anything but 127.0.0.1, persist data, or signal a pid it cannot show to be a
live redis-server (a recycled pid in a stale pid file is someone else's process).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from reconciler.dev.launch import (
    HOST,
    STOP_TIMEOUT_S,
    candidate_ports,
    log_size,
    log_tail,
    pid_alive,
    port_taken,
    read_pid,
)
from reconciler.dev.users import run_tool
from reconciler.errors import ReconcilerError

__all__ = ["RedisServer", "await_redis", "find_redis_server", "probe_client", "start_redis"]

_REDIS_FALLBACKS = (Path("/usr/bin/redis-server"), Path("/usr/local/bin/redis-server"))
_REDIS_START_TIMEOUT_S = 10.0


def find_redis_server() -> Path:
    """The redis-server executable: PATH first, then the usual install locations."""
    if on_path := shutil.which("redis-server"):
        return Path(on_path)
    for candidate in _REDIS_FALLBACKS:
        if os.access(candidate, os.X_OK):
            return candidate
    raise ReconcilerError(
        "redis-server was not found.",
        detail="Run `make setup` (it installs the Debian `redis-server` package) or put "
        "redis-server on PATH.",
    )


@dataclass(frozen=True, slots=True)
class RedisServer:
    """A Redis instance started by us (daemonized, so `pid` is enough to stop it from anywhere)."""

    dir: Path
    port: int
    pid: int

    def url(self, db: int = 0) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def is_running(self) -> bool:
        return pid_alive(self.pid, name="redis")

    def stop(self) -> None:
        """SHUTDOWN NOSAVE NOW FORCE; SIGTERM, then SIGKILL, if it has not exited in time."""
        if self.is_running() and self.port and _redis_answers(self.port, self.pid):
            # Immediate, where SIGTERM waits for the next server tick (up to 100 ms); never a
            # save, whatever `save` a test configured; NOW: not the shutdown-timeout (10 s) a
            # lagging replica (a `redis-cli --rdb` or `--replica` attached) would otherwise
            # cost. Checked to be our process first.
            client = probe_client(self.port, timeout=5)
            try:
                try:
                    client.shutdown(nosave=True, now=True, force=True)
                except redis.ResponseError:  # before Redis 7.0: no NOW, no FORCE
                    client.shutdown(nosave=True)
            except (redis.RedisError, OSError):
                pass  # e.g. ACL changes locked us out: the signals below still work
            finally:
                client.close()
            if _wait_until(lambda: not self.is_running(), timeout=5):
                return
        for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 5)):
            if not self.is_running():
                return
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                return
            except PermissionError as exc:
                raise ReconcilerError(
                    f"Not allowed to stop Redis (pid {self.pid}) on port {self.port}."
                ) from exc
            if _wait_until(lambda: not self.is_running(), timeout=wait_s):
                return
        raise ReconcilerError(f"Redis (pid {self.pid}) on port {self.port} did not stop.")


def _wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def probe_client(port: int, *, timeout: float) -> redis.Redis:
    # No retries: redis-py's default reconnect-with-backoff turns "not up yet" and "gone, as
    # asked by SHUTDOWN" into seconds of waiting.
    return redis.Redis(
        host=HOST,
        port=port,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def _redis_answers(port: int, pid: int) -> bool:
    """PING answers, and from our process: a port race could have put another Redis there."""
    client = probe_client(port, timeout=1)
    try:
        return bool(client.ping()) and int(client.info("server")["process_id"]) == pid
    except (redis.RedisError, OSError, KeyError, ValueError):
        return False
    finally:
        client.close()


def await_redis(port: int, pidfile: Path, log: Path, offset: int) -> int | None:
    """The daemon's pid once it answers; None when it gave up (its log says why) or timed out."""
    deadline = time.monotonic() + _REDIS_START_TIMEOUT_S
    while time.monotonic() < deadline:
        pid = read_pid(pidfile)
        if pid is not None and pid_alive(pid, name="redis") and _redis_answers(port, pid):
            return pid
        tail = log_tail(log, offset)
        if "aborting" in tail or port_taken(tail):
            return None  # it exited; the caller reports the log
        time.sleep(0.02)
    if (pid := read_pid(pidfile)) is not None:  # alive but mute: do not leave it behind
        RedisServer(dir=pidfile.parent, port=port, pid=pid).stop()
    return None


def start_redis(workdir: Path, *, port: int | None = None) -> RedisServer:
    """Start a non-persisting Redis on 127.0.0.1, daemonized, with pid/log files in `workdir`."""
    binary = str(find_redis_server())
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    pidfile, log = workdir / "redis.pid", workdir / "redis.log"
    if (pid := read_pid(pidfile)) is not None and pid_alive(pid, name="redis"):
        raise ReconcilerError(f"Redis is already running from {workdir} (pid {pid}).")
    pidfile.unlink(missing_ok=True)

    for candidate, retry in candidate_ports(port):
        offset = log_size(log)
        argv = [binary, "--port", str(candidate), "--bind", HOST, "--dir", str(workdir)]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "yes"]
        argv += ["--pidfile", str(pidfile), "--logfile", str(log)]
        result = run_tool(argv, timeout=30)
        pid = await_redis(candidate, pidfile, log, offset) if result.returncode == 0 else None
        if pid is not None:
            return RedisServer(dir=workdir, port=candidate, pid=pid)
        tail = log_tail(log, offset)
        if retry and port_taken(tail):
            continue
        raise ReconcilerError(
            f"Redis did not start on {HOST}:{candidate} (directory {workdir}).",
            detail=tail or (result.stderr or result.stdout).strip() or None,
        )
    raise AssertionError("unreachable: the last port attempt never retries")
