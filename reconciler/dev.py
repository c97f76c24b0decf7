"""Embedded throwaway PostgreSQL and Redis servers for `reconciler dev` and the test suite.

Owns: finding the server binaries, starting and stopping a private PostgreSQL cluster and a
private Redis instance on free 127.0.0.1 ports, and the dev state file
`<root>/.reconciler/dev/state.json` that lets another process (`reconciler dev down`) find them.

Must not: listen on anything but 127.0.0.1, touch a server it did not start, or hold data anyone
should care about (fsync is off, Redis never persists). Library code only: failures are raised as
ReconcilerError sentences, nothing here prints or exits.
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from reconciler.errors import ReconcilerError

__all__ = [
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

HOST = "127.0.0.1"
PG_SUPERUSER = "postgres"  # the bootstrap role initdb creates (-U); trust auth, no password
FALLBACK_OS_USER = "reconciler"  # created when running as root and no `postgres` OS user exists
STATE_FORMAT_VERSION = 1

# Where distributions put versioned server binaries that are not on PATH (Debian/Ubuntu).
_PG_LIB_ROOTS: tuple[Path, ...] = (Path("/usr/lib/postgresql"),)
_PG_BINARIES = ("initdb", "pg_ctl", "postgres")
_REDIS_FALLBACKS = (Path("/usr/bin/redis-server"), Path("/usr/local/bin/redis-server"))

_START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it
_PG_START_TIMEOUT_S = 60
_REDIS_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 30
_LOG_TAIL_LINES = 15
# A Unix socket path must fit in sockaddr_un.sun_path (108 bytes on Linux, 104 on macOS).
_MAX_SOCKET_PATH = 103
_PORT_TAKEN_MARKERS = ("Address already in use", "could not bind", "Could not create server TCP")


# --------------------------------------------------------------------------------------- lookups


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _has_pg_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in _PG_BINARIES)


def _version_key(directory: Path) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in directory.parent.name.split("."))
    except ValueError:
        return (-1,)


def find_pg_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres.

    `RECONCILER_PG_BINDIR` wins, then PATH (symlinks resolved, so pg_dump next to them matches the
    server's version), then the newest /usr/lib/postgresql/<version>/bin.
    """
    candidates: list[Path] = []
    if override := os.environ.get("RECONCILER_PG_BINDIR"):
        candidates.append(Path(override))
    if on_path := shutil.which("initdb"):
        candidates += [Path(on_path).resolve().parent, Path(on_path).parent]
    for lib_root in _PG_LIB_ROOTS:
        candidates += sorted(lib_root.glob("*/bin"), key=_version_key, reverse=True)
    for candidate in candidates:
        if _has_pg_binaries(candidate):
            return candidate
    raise ReconcilerError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found.",
        detail="Run `make setup` (it installs the Debian `postgresql` package), put their "
        "directory on PATH, or set RECONCILER_PG_BINDIR.",
    )


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


# ------------------------------------------------------------------------------ processes, users


def _pid_alive(pid: int, *, name: str | None = None) -> bool:
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


@dataclass(frozen=True, slots=True)
class _OsUser:
    name: str
    uid: int
    gid: int
    home: str
    groups: tuple[int, ...]

    @classmethod
    def from_pwd(cls, entry: pwd.struct_passwd) -> _OsUser:
        groups = tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir, groups)

    @property
    def needs_switch(self) -> bool:
        return self.uid != os.geteuid()


def _current_user() -> _OsUser:
    return _OsUser.from_pwd(pwd.getpwuid(os.geteuid()))


def _lookup_user(name: str) -> _OsUser | None:
    try:
        return _OsUser.from_pwd(pwd.getpwnam(name))
    except KeyError:
        return None


def _server_user() -> _OsUser:
    """The OS user PostgreSQL runs as: ourselves, or an unprivileged account when we are root.

    PostgreSQL refuses to run as root. `postgres` (created by the distribution package) is the
    natural choice; otherwise a system account with no home and no login shell is created once.
    """
    if os.geteuid() != 0:
        return _current_user()
    for name in ("postgres", FALLBACK_OS_USER):
        if (user := _lookup_user(name)) is not None:
            return user
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    argv = [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
    try:
        result = subprocess.run(
            [*argv, FALLBACK_OS_USER], capture_output=True, text=True, check=False, timeout=60
        )
    except OSError as exc:
        result = subprocess.CompletedProcess(argv, 127, "", str(exc))
    # Another process may have created it concurrently; what matters is that it exists now.
    if (user := _lookup_user(FALLBACK_OS_USER)) is not None:
        return user
    raise ReconcilerError(
        f"Could not create the OS user {FALLBACK_OS_USER!r} to run PostgreSQL as "
        "(PostgreSQL refuses to run as root).",
        detail=(result.stderr or result.stdout).strip() or None,
    )


def _run(
    argv: list[str], *, user: _OsUser | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a server tool, as `user` when that differs from us (only possible as root)."""
    kwargs: dict[str, Any] = {}
    if user is not None and user.needs_switch:
        env = {**os.environ, "HOME": user.home, "USER": user.name, "LOGNAME": user.name}
        kwargs = {
            "user": user.uid,
            "group": user.gid,
            "extra_groups": list(user.groups),  # drop root's supplementary groups
            "env": env,
            "cwd": "/",  # our cwd may not be enterable by that user
        }
    try:
        return subprocess.run(
            argv, capture_output=True, text=True, check=False, timeout=timeout, **kwargs
        )
    except subprocess.TimeoutExpired as exc:
        raise ReconcilerError(
            f"{Path(argv[0]).name} did not finish within {timeout:g} seconds."
        ) from exc
    except OSError as exc:
        raise ReconcilerError(f"Could not run {argv[0]}: {exc.strerror or exc}.") from exc


def _mkdirs(path: Path) -> list[Path]:
    """mkdir -p that reports which directories it created, outermost first."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    created: list[Path] = []
    for directory in reversed(missing):
        try:
            directory.mkdir()
        except FileExistsError:
            continue  # created concurrently by someone else: not ours to chmod
        created.append(directory)
    return created


def _can_enter(path: Path, user: _OsUser) -> bool:
    if user.uid == 0:
        return True
    st = path.stat()
    if st.st_uid == user.uid:
        bit = stat.S_IXUSR
    elif st.st_gid in user.groups:
        bit = stat.S_IXGRP
    else:
        bit = stat.S_IXOTH
    return bool(st.st_mode & bit)


def _make_enterable(datadir: Path, user: _OsUser, *, created: list[Path]) -> None:
    """Let `user` reach `datadir`: chmod o+x on directories we just created, refuse otherwise.

    Changing permissions of a directory someone else made (e.g. pytest's 0700 basetemp) would
    silently widen access to it, so that is left to the person running us.
    """
    for directory in reversed(datadir.parents):  # "/" first
        if _can_enter(directory, user):
            continue
        if directory in created:
            directory.chmod(directory.stat().st_mode | stat.S_IXOTH)
            continue
        raise ReconcilerError(
            f"PostgreSQL runs as the OS user {user.name!r}, which cannot enter {directory}.",
            detail=f"Choose a data directory outside it, or allow it with `chmod o+x {directory}`.",
        )


def _log_tail(path: Path, offset: int = 0) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-_LOG_TAIL_LINES:])


def _log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _port_taken(log_text: str) -> bool:
    return any(marker in log_text for marker in _PORT_TAKEN_MARKERS)


def _ports(port: int | None) -> Iterator[tuple[int, bool]]:
    """Ports to try, each with whether a failure may be retried on the next one."""
    if port is not None:
        yield port, False
        return
    for attempt in range(_START_ATTEMPTS):
        yield free_port(), attempt < _START_ATTEMPTS - 1


# -------------------------------------------------------------------------------------- postgres


@dataclass(frozen=True, slots=True)
class PgServer:
    """A PostgreSQL cluster started by us; usable from any process that knows these fields."""

    datadir: Path
    port: int
    user: str  # OS user the server runs as

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{PG_SUPERUSER}@{HOST}:{self.port}/{dbname}"

    @classmethod
    def from_datadir(cls, datadir: Path) -> PgServer | None:
        """The server running in `datadir` right now (read from postmaster.pid), if any."""
        info = _postmaster_info(datadir)
        if info is None or not _pid_alive(info[0], name="postgres"):
            return None
        try:
            owner = pwd.getpwuid(datadir.stat().st_uid).pw_name
        except (KeyError, OSError):
            owner = _current_user().name
        return cls(datadir=datadir, port=info[1], user=owner)

    def pid(self) -> int | None:
        info = _postmaster_info(self.datadir)
        return info[0] if info is not None else None

    def is_running(self) -> bool:
        info = _postmaster_info(self.datadir)
        # A cluster restarted on another port is not the server these fields describe.
        return info is not None and info[1] == self.port and _pid_alive(info[0], name="postgres")

    def stop(self) -> None:
        """pg_ctl stop -m fast; -m immediate if that fails. A stopped server is left alone."""
        if not self.is_running():
            return
        pg_ctl = str(find_pg_bindir() / "pg_ctl")
        user = _lookup_user(self.user) or _current_user()
        result: subprocess.CompletedProcess[str] | None = None
        for mode in ("fast", "immediate"):
            argv = [pg_ctl, "stop", "-D", str(self.datadir), "-m", mode, "-w"]
            result = _run([*argv, "-t", str(_STOP_TIMEOUT_S)], user=user, timeout=90)
            if result.returncode == 0 or not self.is_running():
                return
        detail = (result.stderr or result.stdout).strip() if result else None
        raise ReconcilerError(f"PostgreSQL in {self.datadir} did not stop.", detail=detail)


def _postmaster_info(datadir: Path) -> tuple[int, int] | None:
    """(pid, port) from postmaster.pid: line 1 is the pid, line 4 the port."""
    try:
        lines = (datadir / "postmaster.pid").read_text().splitlines()
        return int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None


def _pg_options(datadir: Path, port: int) -> str:
    # The socket lives in the data directory so that clusters never collide on /tmp/.s.PGSQL.*;
    # when that path is too long for a Unix socket, TCP alone is enough for everything we do.
    socket_dir = str(datadir) if len(f"{datadir}/.s.PGSQL.{port}") <= _MAX_SOCKET_PATH else ""
    settings = [
        f"listen_addresses={HOST}",
        f"unix_socket_directories={socket_dir}",
        # Throwaway data: durability only costs time.
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
        "max_connections=200",
    ]
    # pg_ctl passes -o through /bin/sh, hence the quoting.
    return " ".join([f"-p {port}", *(f"-c {shlex.quote(s)}" for s in settings)])


def _initdb(bindir: Path, datadir: Path, user: _OsUser) -> None:
    argv = [str(bindir / "initdb"), "-D", str(datadir), "-U", PG_SUPERUSER, "--auth=trust"]
    argv += ["--encoding=UTF8", "--locale=C", "--no-sync"]
    result = _run(argv, user=user, timeout=300)
    if result.returncode != 0:
        raise ReconcilerError(
            f"initdb could not create a PostgreSQL cluster in {datadir}.",
            detail=(result.stderr or result.stdout).strip() or None,
        )


def start_postgres(datadir: Path, *, port: int | None = None) -> PgServer:
    """Start a PostgreSQL cluster in `datadir` (initdb first if it holds none) on 127.0.0.1.

    Without `port` a free one is picked, and another is tried if it is taken before the server
    binds it. As root the cluster belongs to, and runs as, an unprivileged OS user.
    """
    bindir = find_pg_bindir()
    user = _server_user()
    datadir = datadir.resolve()
    created = _mkdirs(datadir)
    if (running := PgServer.from_datadir(datadir)) is not None:
        raise ReconcilerError(f"PostgreSQL is already running in {datadir} (port {running.port}).")
    try:
        if user.needs_switch:
            _make_enterable(datadir, user, created=created)
            if datadir in created or not any(datadir.iterdir()):
                os.chown(datadir, user.uid, user.gid)
        if not (datadir / "PG_VERSION").exists():
            _initdb(bindir, datadir, user)
    except BaseException:
        # No cluster came of it: leave no empty directories behind. (After a failed start the
        # cluster and its server.log stay, for the user to read.)
        if created:
            shutil.rmtree(created[0], ignore_errors=True)
        raise

    log = datadir / "server.log"
    for candidate, retry in _ports(port):
        offset = _log_size(log)
        argv = [str(bindir / "pg_ctl"), "start", "-w", "-t", str(_PG_START_TIMEOUT_S)]
        argv += ["-D", str(datadir), "-l", str(log), "-o", _pg_options(datadir, candidate)]
        result = _run(argv, user=user, timeout=_PG_START_TIMEOUT_S + 30)
        server = PgServer(datadir=datadir, port=candidate, user=user.name)
        if result.returncode == 0 and server.is_running():
            return server
        tail = _log_tail(log, offset)
        if retry and _port_taken(tail):
            continue
        raise ReconcilerError(
            f"PostgreSQL did not start on {HOST}:{candidate} (data directory {datadir}).",
            detail=tail or (result.stderr or result.stdout).strip() or None,
        )
    raise AssertionError("unreachable: the last port attempt never retries")


# ----------------------------------------------------------------------------------------- redis


@dataclass(frozen=True, slots=True)
class RedisServer:
    """A Redis instance started by us (daemonized, so `pid` is enough to stop it from anywhere)."""

    dir: Path
    port: int
    pid: int

    def url(self, db: int = 0) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def is_running(self) -> bool:
        return _pid_alive(self.pid, name="redis")

    def stop(self) -> None:
        """SHUTDOWN NOSAVE; SIGTERM, then SIGKILL, if it has not exited within the timeout."""
        if self.is_running() and self.port and _redis_answers(self.port, self.pid):
            # Immediate, where SIGTERM waits for the next server tick (up to 100 ms); and never
            # a save, whatever `save` a test configured. Checked to be our process first.
            client = _probe_client(self.port, timeout=5)
            try:
                client.shutdown(nosave=True)
            except (redis.RedisError, OSError):
                pass  # e.g. ACL changes locked us out: the signals below still work
            finally:
                client.close()
            if _wait_until(lambda: not self.is_running(), timeout=5):
                return
        for sig, wait_s in ((signal.SIGTERM, _STOP_TIMEOUT_S), (signal.SIGKILL, 5)):
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


def _read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _probe_client(port: int, *, timeout: float) -> redis.Redis:
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
    client = _probe_client(port, timeout=1)
    try:
        return bool(client.ping()) and int(client.info("server")["process_id"]) == pid
    except (redis.RedisError, OSError, KeyError, ValueError):
        return False
    finally:
        client.close()


def _await_redis(port: int, pidfile: Path, log: Path, offset: int) -> int | None:
    """The daemon's pid once it answers; None when it gave up (its log says why) or timed out."""
    deadline = time.monotonic() + _REDIS_START_TIMEOUT_S
    while time.monotonic() < deadline:
        pid = _read_pid(pidfile)
        if pid is not None and _pid_alive(pid, name="redis") and _redis_answers(port, pid):
            return pid
        tail = _log_tail(log, offset)
        if "aborting" in tail or _port_taken(tail):
            return None  # it exited; the caller reports the log
        time.sleep(0.02)
    if (pid := _read_pid(pidfile)) is not None:  # alive but mute: do not leave it behind
        RedisServer(dir=pidfile.parent, port=port, pid=pid).stop()
    return None


def start_redis(workdir: Path, *, port: int | None = None) -> RedisServer:
    """Start a non-persisting Redis on 127.0.0.1, daemonized, with pid/log files in `workdir`."""
    binary = str(find_redis_server())
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    pidfile, log = workdir / "redis.pid", workdir / "redis.log"
    if (pid := _read_pid(pidfile)) is not None and _pid_alive(pid, name="redis"):
        raise ReconcilerError(f"Redis is already running from {workdir} (pid {pid}).")
    pidfile.unlink(missing_ok=True)

    for candidate, retry in _ports(port):
        offset = _log_size(log)
        argv = [binary, "--port", str(candidate), "--bind", HOST, "--dir", str(workdir)]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "yes"]
        argv += ["--pidfile", str(pidfile), "--logfile", str(log)]
        result = _run(argv, timeout=30)
        pid = _await_redis(candidate, pidfile, log, offset) if result.returncode == 0 else None
        if pid is not None:
            return RedisServer(dir=workdir, port=candidate, pid=pid)
        tail = _log_tail(log, offset)
        if retry and _port_taken(tail):
            continue
        raise ReconcilerError(
            f"Redis did not start on {HOST}:{candidate} (directory {workdir}).",
            detail=tail or (result.stderr or result.stdout).strip() or None,
        )
    raise AssertionError("unreachable: the last port attempt never retries")


# ------------------------------------------------------------------------------ dev environment


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


def _live_pg(directory: Path, state: _DevState) -> PgServer | None:
    if state.pg is not None and state.pg.is_running():
        return state.pg
    # Lost or stale state file: the cluster itself says whether (and on which port) it runs.
    return PgServer.from_datadir(directory / "pg")


def _orphan_redis(directory: Path) -> RedisServer | None:
    """A Redis from our directory still running although the state does not describe it."""
    pid = _read_pid(directory / "redis" / "redis.pid")
    if pid is None or not _pid_alive(pid, name="redis"):
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
    if previous is not None and _port_is_free(previous):
        try:
            return start(path, port=previous)
        except ReconcilerError:
            pass  # taken in the meantime: any free port will do
    return start(path)


def dev_up(root: Path) -> DevStatus:
    """Start (or keep) the dev servers under `root/.reconciler/dev`; idempotent."""
    directory = dev_dir(root.resolve())
    for created in _mkdirs(directory):
        if os.geteuid() == 0:
            # Ours, so we may let the unprivileged PostgreSQL user pass through (not list) it.
            created.chmod(created.stat().st_mode | stat.S_IXOTH)
    with _dev_lock(directory):
        state = _read_state(directory)

        pg = _live_pg(directory, state)
        if pg is None:
            previous = state.pg.port if state.pg is not None else None
            pg = _start_preferring(start_postgres, directory / "pg", previous)

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
    directory = dev_dir(root.resolve())
    return _status(directory, _read_state(directory))


def dev_down(root: Path) -> DevStatus:
    """Stop both dev servers and remove `root/.reconciler/dev` with everything in it."""
    directory = dev_dir(root.resolve())
    if not directory.exists():
        return _status(directory, _DevState(pg=None, redis=None))
    with _dev_lock(directory):
        state = _read_state(directory)
        if (pg := _live_pg(directory, state)) is not None:
            pg.stop()
        if state.redis is not None:
            state.redis.stop()
        if (orphan := _orphan_redis(directory)) is not None:
            orphan.stop()
        shutil.rmtree(directory)
        return _status(directory, _DevState(pg=None, redis=None))
