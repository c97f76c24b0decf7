"""An embedded throwaway PostgreSQL cluster: find the binaries, initdb, start on 127.0.0.1, stop.

Owns: locating initdb/pg_ctl/postgres, creating a cluster (trust auth for the `postgres`
superuser, fsync off), starting it on a free loopback port with its socket inside the data
directory, and PgServer, which any process can rebuild from the data directory to stop it.

Must not: listen on anything but 127.0.0.1, stop a cluster it cannot show to be the one in the
data directory, or run the server as root (users.py picks an unprivileged OS user).
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reconciler.dev.launch import (
    HOST,
    STOP_TIMEOUT_S,
    candidate_ports,
    log_size,
    log_tail,
    pid_alive,
    port_taken,
)
from reconciler.dev.users import (
    OsUser,
    current_user,
    lookup_user,
    make_enterable,
    mkdirs,
    run_tool,
    server_user,
)
from reconciler.errors import ReconcilerError

__all__ = ["PG_SUPERUSER", "PgServer", "find_pg_bindir", "start_postgres"]

PG_SUPERUSER = "postgres"  # the bootstrap role initdb creates (-U); trust auth, no password

# Where distributions put versioned server binaries that are not on PATH (Debian/Ubuntu).
_PG_LIB_ROOTS: tuple[Path, ...] = (Path("/usr/lib/postgresql"),)
_PG_BINARIES = ("initdb", "pg_ctl", "postgres")
_PG_START_TIMEOUT_S = 60
# A Unix socket path must fit in sockaddr_un.sun_path (108 bytes on Linux, 104 on macOS).
_MAX_SOCKET_PATH = 103


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
        if info is None or not pid_alive(info[0], name="postgres"):
            return None
        try:
            owner = pwd.getpwuid(datadir.stat().st_uid).pw_name
        except (KeyError, OSError):
            owner = current_user().name
        return cls(datadir=datadir, port=info[1], user=owner)

    def pid(self) -> int | None:
        info = _postmaster_info(self.datadir)
        return info[0] if info is not None else None

    def is_running(self) -> bool:
        info = _postmaster_info(self.datadir)
        # A cluster restarted on another port is not the server these fields describe.
        return info is not None and info[1] == self.port and pid_alive(info[0], name="postgres")

    def stop(self, *, discard: bool = False) -> None:
        """pg_ctl stop -m fast; -m immediate if that fails. A stopped server is left alone.

        discard=True (its data is deleted next, as by `dev down`): -m immediate at once. A fast
        stop writes a shutdown checkpoint of every dirty buffer and waits for WAL senders to
        flush their receivers, which can take long for data that is thrown away."""
        if not self.is_running():
            return
        pg_ctl = str(find_pg_bindir() / "pg_ctl")
        user = lookup_user(self.user) or current_user()
        result: subprocess.CompletedProcess[str] | None = None
        for mode in ("immediate",) if discard else ("fast", "immediate"):
            argv = [pg_ctl, "stop", "-D", str(self.datadir), "-m", mode, "-w"]
            result = run_tool([*argv, "-t", str(STOP_TIMEOUT_S)], user=user, timeout=90)
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


def _pg_options(datadir: Path, port: int, extra: tuple[str, ...] = ()) -> str:
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
        *extra,
    ]
    # pg_ctl passes -o through /bin/sh, hence the quoting.
    return " ".join([f"-p {port}", *(f"-c {shlex.quote(s)}" for s in settings)])


def _initdb(bindir: Path, datadir: Path, user: OsUser) -> None:
    argv = [str(bindir / "initdb"), "-D", str(datadir), "-U", PG_SUPERUSER, "--auth=trust"]
    argv += ["--encoding=UTF8", "--locale=C", "--no-sync"]
    result = run_tool(argv, user=user, timeout=300)
    if result.returncode != 0:
        raise ReconcilerError(
            f"initdb could not create a PostgreSQL cluster in {datadir}.",
            detail=(result.stderr or result.stdout).strip() or None,
        )


def start_postgres(
    datadir: Path, *, port: int | None = None, settings: tuple[str, ...] = ()
) -> PgServer:
    """Start a PostgreSQL cluster in `datadir` (initdb first if it holds none) on 127.0.0.1.

    Without `port` a free one is picked, and another is tried if it is taken before the server
    binds it. As root the cluster belongs to, and runs as, an unprivileged OS user. `settings`
    (`name=value`) come after, and so override, the defaults.
    """
    bindir = find_pg_bindir()
    user = server_user()
    datadir = datadir.resolve()
    created = mkdirs(datadir)
    if (running := PgServer.from_datadir(datadir)) is not None:
        raise ReconcilerError(f"PostgreSQL is already running in {datadir} (port {running.port}).")
    try:
        if user.needs_switch:
            make_enterable(datadir, user, created=created)
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
    for candidate, retry in candidate_ports(port):
        offset = log_size(log)
        argv = [str(bindir / "pg_ctl"), "start", "-w", "-t", str(_PG_START_TIMEOUT_S)]
        argv += [
            "-D",
            str(datadir),
            "-l",
            str(log),
            "-o",
            _pg_options(datadir, candidate, settings),
        ]
        result = run_tool(argv, user=user, timeout=_PG_START_TIMEOUT_S + 30)
        server = PgServer(datadir=datadir, port=candidate, user=user.name)
        if result.returncode == 0 and server.is_running():
            return server
        tail = log_tail(log, offset)
        if retry and port_taken(tail):
            continue
        raise ReconcilerError(
            f"PostgreSQL did not start on {HOST}:{candidate} (data directory {datadir}).",
            detail=tail or (result.stderr or result.stdout).strip() or None,
        )
    raise AssertionError("unreachable: the last port attempt never retries")
