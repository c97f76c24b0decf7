"""`reconciler dev up/down/status`: a PostgreSQL and a Redis for development, kept per project.

Owns: the dev state file `<root>/.reconciler/dev/state.json` (which servers run, on which ports)
that lets another process (`reconciler dev down`) find them, the lock that serializes dev up/down
for one root, and restarting on the previous ports so that dev URLs stay stable. Also the import
path of the embedded servers themselves, one concept per module: `launch` (free loopback ports,
live-pid checks, server logs), `users` (the OS user a server runs as), `postgres`, `redis` and
`cluster` (finding, starting and stopping each server). The test suite and bench/ use
`dev.start_postgres`, `dev.RedisServer`, ... from here.

Must not: listen on anything but 127.0.0.1, touch a server it did not start, or hold data anyone
should care about (fsync is off, Redis never persists). Library code only: failures are raised as
ReconcilerError sentences, nothing here prints or exits.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from reconciler.dev.launch import HOST, free_port, pid_alive, port_is_free, read_pid
from reconciler.dev.postgres import PgServer, find_pg_bindir, start_postgres
from reconciler.dev.redis import RedisServer, find_redis_server, start_redis
from reconciler.dev.users import can_reach, mkdirs, server_user
from reconciler.errors import ReconcilerError

__all__ = [
    "HOST",
    "DevStatus",
    "PgServer",
    "RedisServer",
    "dev_dir",
    "dev_down",
    "dev_status",
    "dev_up",
    "find_pg_bindir",
    "find_redis_server",
    "free_port",
    "start_postgres",
    "start_redis",
]

STATE_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class DevStatus:
    """What `reconciler dev status` reports; URLs are None for a server that is not running."""

    dir: Path
    pg_url: str | None
    redis_url: str | None
    pg_running: bool
    redis_running: bool

    @property
    def running(self) -> bool:
        return self.pg_running and self.redis_running

    def to_dict(self) -> dict[str, Any]:
        return {
            "dir": str(self.dir),
            "running": self.running,
            "postgres": {"running": self.pg_running, "url": self.pg_url},
            "redis": {"running": self.redis_running, "url": self.redis_url},
        }


def dev_dir(root: Path) -> Path:
    return root / ".reconciler" / "dev"


def _own_dev_dir(root: Path) -> Path:
    """dev_dir of `root`, refused when it goes through a link: a checkout may carry one to
    anywhere, and `dev down` removes the dev folder with everything in it."""
    directory = dev_dir(root.resolve())
    for folder in (directory.parent, directory):
        if folder.is_symlink():
            raise ReconcilerError(
                f"{folder} is a link: the dev servers are kept in a folder of the project "
                "itself, never through a link to elsewhere.",
                detail=f"Remove the link ({folder} points to {os.readlink(folder)}); "
                "`reconciler dev up` then makes the folder.",
            )
    return directory


PROJECT_FILE = "reconciler.yaml"  # project/config.py's FILE (dev/ does not import project/)


def find_root(start: Path) -> Path:
    """The folder whose dev servers a command run in `start` means, found upwards as git finds
    .git: the nearest folder at or above `start` that has dev servers (.reconciler/dev) or is a
    project root (holds reconciler.yaml); `start` itself when there is neither."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if dev_dir(folder).is_dir() or (folder / PROJECT_FILE).is_file():
            return folder
    return here


@dataclass(frozen=True, slots=True)
class _DevState:
    pg: PgServer | None
    redis: RedisServer | None

    def to_json(self) -> str:
        data: dict[str, Any] = {"format_version": STATE_FORMAT_VERSION}
        if self.pg is not None:
            data["postgres"] = {
                "datadir": str(self.pg.datadir),
                "port": self.pg.port,
                "user": self.pg.user,
                "pid": self.pg.pid(),
                "url": self.pg.url(),
            }
        if self.redis is not None:
            data["redis"] = {
                "dir": str(self.redis.dir),
                "port": self.redis.port,
                "pid": self.redis.pid,
                "url": self.redis.url(),
            }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _read_state(directory: Path) -> _DevState:
    """The recorded servers; a missing or unreadable file means none (the dirs are checked too)."""
    try:
        data = json.loads((directory / "state.json").read_text())
        pg_data, redis_data = data.get("postgres"), data.get("redis")
        pg = (
            PgServer(Path(pg_data["datadir"]), int(pg_data["port"]), str(pg_data["user"]))
            if pg_data
            else None
        )
        rd = (
            RedisServer(Path(redis_data["dir"]), int(redis_data["port"]), int(redis_data["pid"]))
            if redis_data
            else None
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return _DevState(pg=None, redis=None)
    return _DevState(pg=pg, redis=rd)


def _write_state(directory: Path, state: _DevState) -> None:
    tmp = directory / "state.json.tmp"
    tmp.write_text(state.to_json())
    os.replace(tmp, directory / "state.json")  # readers never see a half-written file


@contextmanager
def _dev_lock(directory: Path) -> Iterator[None]:
    """Serialize dev up/down for one root. The lock file sits outside dev/, which down removes."""
    with (directory.parent / "dev.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_POINTER = "pg.where"  # in the dev directory: where the cluster lives when not beside it


def _pg_datadir(directory: Path, *, choose: bool = False) -> Path:
    """Where the dev cluster lives: beside the dev state, unless the OS user PostgreSQL runs
    as (root runs it as an unprivileged account) cannot reach it there — a project inside a
    0700 directory such as `mktemp -d` makes, or /root. Then it lives in a directory of its
    own under the system's temporary directory, and `pg.where` in the dev directory says
    where, so that every later command finds it (`dev down` removes both). `choose`: decide (and
    write the pointer) when nothing was decided yet; otherwise only read."""
    pointer = directory / _POINTER
    try:
        return Path(pointer.read_text(encoding="utf-8").strip())
    except OSError:
        pass
    inside = directory / "pg"
    if not choose or os.geteuid() != 0 or can_reach(inside, server_user()):
        return inside
    # A fresh, unguessable directory of ours (no one else can have prepared it), which the
    # server's user may pass through but not list.
    home = Path(tempfile.mkdtemp(prefix="reconciler-dev-"))
    home.chmod(0o711)
    outside = home / "pg"
    pointer.write_text(f"{outside}\n", encoding="utf-8")
    return outside


def _live_pg(directory: Path, state: _DevState) -> PgServer | None:
    if state.pg is not None and state.pg.is_running():
        return state.pg
    # Lost or stale state file: the cluster itself says whether (and on which port) it runs.
    return PgServer.from_datadir(_pg_datadir(directory))


def _orphan_redis(directory: Path) -> RedisServer | None:
    """A Redis from our directory still running although the state does not describe it."""
    pid = read_pid(directory / "redis" / "redis.pid")
    if pid is None or not pid_alive(pid, name="redis"):
        return None
    return RedisServer(dir=directory / "redis", port=0, pid=pid)


def _status(directory: Path, state: _DevState) -> DevStatus:
    pg = _live_pg(directory, state)
    rd = state.redis if state.redis is not None and state.redis.is_running() else None
    return DevStatus(
        dir=directory,
        pg_url=pg.url() if pg else None,
        redis_url=rd.url() if rd else None,
        pg_running=pg is not None,
        redis_running=rd is not None,
    )


_Server = TypeVar("_Server", PgServer, RedisServer)


def _start_preferring(start: Callable[..., _Server], path: Path, previous: int | None) -> _Server:
    """Restart on the previous port when it is still free so that dev URLs stay stable."""
    if previous is not None and port_is_free(previous):
        try:
            return start(path, port=previous)
        except ReconcilerError:
            pass  # taken in the meantime: any free port will do
    return start(path)


def dev_up(root: Path) -> DevStatus:
    """Start (or keep) the dev servers under `root/.reconciler/dev`; idempotent."""
    directory = _own_dev_dir(root)
    for created in mkdirs(directory):
        if os.geteuid() == 0:
            # Ours, so we may let the unprivileged PostgreSQL user pass through (not list) it.
            created.chmod(created.stat().st_mode | stat.S_IXOTH)
    with _dev_lock(directory):
        state = _read_state(directory)

        pg = _live_pg(directory, state)
        if pg is None:
            previous = state.pg.port if state.pg is not None else None
            pg = _start_preferring(start_postgres, _pg_datadir(directory, choose=True), previous)

        rd = state.redis if state.redis is not None and state.redis.is_running() else None
        if rd is None:
            if (orphan := _orphan_redis(directory)) is not None:
                orphan.stop()
            previous = state.redis.port if state.redis is not None else None
            rd = _start_preferring(start_redis, directory / "redis", previous)

        new_state = _DevState(pg=pg, redis=rd)
        _write_state(directory, new_state)
        return _status(directory, new_state)


def dev_status(root: Path) -> DevStatus:
    """Which dev servers run and their URLs; never starts, stops or writes anything."""
    directory = _own_dev_dir(root)
    return _status(directory, _read_state(directory))


@contextmanager
def _said_if_slow(progress: Callable[[str], None] | None, line: str) -> Iterator[None]:
    """Tell `progress` the line only if the step is still running after an instant (0.3 s):
    a quick stop stays quiet, a slow one says what it is waiting for."""
    if progress is None:
        yield
        return
    timer = threading.Timer(0.3, progress, args=(line,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def dev_down(root: Path, *, progress: Callable[[str], None] | None = None) -> DevStatus:
    """Stop both dev servers and remove `root/.reconciler/dev` with everything in it.

    Their data is thrown away, so nothing is saved on the way out: PostgreSQL stops in
    immediate mode (no shutdown checkpoint), Redis with SHUTDOWN NOSAVE NOW. A stop that takes
    more than an instant is said to `progress` ("Stopping PostgreSQL on port N…")."""
    directory = _own_dev_dir(root)
    if not directory.exists():
        return _status(directory, _DevState(pg=None, redis=None))
    with _dev_lock(directory):
        state = _read_state(directory)
        if (pg := _live_pg(directory, state)) is not None:
            with _said_if_slow(progress, f"Stopping PostgreSQL on port {pg.port}…"):
                pg.stop(discard=True)
        if state.redis is not None:
            with _said_if_slow(progress, f"Stopping Redis on port {state.redis.port}…"):
                state.redis.stop()
        if (orphan := _orphan_redis(directory)) is not None:
            with _said_if_slow(progress, f"Stopping Redis (pid {orphan.pid})…"):
                orphan.stop()
        datadir = _pg_datadir(directory)
        if datadir.parent != directory:  # a cluster kept outside the project: its own dir goes
            shutil.rmtree(datadir.parent, ignore_errors=True)
        shutil.rmtree(directory)
        return _status(directory, _DevState(pg=None, redis=None))
