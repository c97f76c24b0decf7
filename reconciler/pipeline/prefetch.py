"""The catalog of a `reconciler plan` read ahead, by a process forked as the command starts,
while this one builds the command line (typer, rich), reads the files and loads the driver.

A plan's catalog read waits for its first query until psycopg is imported and connected, and
those imports alone take longer than pg_dump's whole start: a process of its own starts the
read at once, on the machine's other core. What it read is the plan's only when the plan
would have read the same: the same URL, the same scope and the same digest asked; anything
else (a fleet, a library caller's own scope) drops it, and the plan reads the catalog itself,
as it always did. (An export read ahead the same way was measured no faster: what it does
meanwhile, and the model and YAML after, keep both cores busy.)

Owns: that process, its pipe and the checks that make its rows the plan's.
Must not: say anything. A read that failed, or was not the plan's, is dropped without a word
and the plan reads again (any mistake is then said by the read that makes it); the failures
handed over are waits not to be made twice: a LockHeld (READ_LOCK_TIMEOUT) and a connection
that timed out.
"""

from __future__ import annotations

import atexit
import contextlib
import marshal
import os
import pickle
import select
import signal
import struct
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.introspect.pg.catalog_rows import CatalogRows
    from reconciler.project.scope import Scope

OFF_VARIABLE = "RECONCILER_NO_PREFETCH"  # set (not "0"): every plan reads its own catalog
_FRAME = struct.Struct("!cQ")  # kind (m: marshal, p: pickle, e: pickled error), length
_LAYOUT = 3  # of the frames below: a process forked by other code is never misread
# A connection that failed after this long (it timed out) is handed over, as a lock waited for
# is: the command does not make the same wait a second time.
_SLOW_FAILURE_S = 2.0
# The read's sessions look for their client this often while they run or wait (PostgreSQL 14
# on): a read ahead killed while it waits for a lock does not leave them queued behind it.
_CLIENT_CHECK = "1s"
_STALL_CHECK_S = 1.0  # how often a command waiting for the read ahead looks whether it stopped


class Ahead:
    """The read ahead, once its first frame is in: what it was read for and, for a plan the
    cache may answer, the catalog's digest and what the plan names its target by. (A plain
    class: the module loads before anything else of the command line.)"""

    def __init__(self, pid: int, fd: int, head: list[Any]) -> None:
        url, excluded, hashed, digest, unsupported, target, failed = head
        self.pid, self.fd = pid, fd
        self.failed: bool = failed  # the next frame is the failure it hands over
        self.pg_url: str = url
        self.excluded: tuple[str, ...] = excluded
        self.hashed: bool = hashed
        self.digest: str | None = digest
        self.unsupported: tuple[tuple[str, str], ...] = unsupported
        self.target: dict[str, str] = target
        self._rows: CatalogRows | None = None

    def rows(self) -> CatalogRows | None:
        """The rows it read, or None when they did not come; the failure it hands over (a
        lock waited for, a connection that timed out: waits not to be made twice) is raised."""
        from reconciler.errors import ReconcilerError  # deferred: start-up: a bare process

        if self._rows is not None:
            return self._rows
        try:
            got = _read_frame(self.fd, self.pid)
        finally:
            discard()
        if got is None:
            return None
        kind, payload = got
        if kind == b"e":
            exc = _loaded(payload)
            if isinstance(exc, ReconcilerError):
                raise exc
            return None
        values = marshal.loads(payload) if kind == b"m" else _loaded(payload)
        if not isinstance(values, tuple) or len(values) != 5:
            return None
        from reconciler.introspect.pg.catalog_rows import CatalogRows  # deferred: start-up

        self._rows = CatalogRows(*values)
        return self._rows


_state: dict[str, Any] = {}  # "child": (pid, fd) until its first frame is read, then "ahead"


def start(argv: list[str]) -> None:
    """Fork the read ahead when `argv` (the command line's arguments) is a plan that may read
    a PostgreSQL catalog; otherwise, or where processes cannot be forked, do nothing."""
    if not _worth_it(argv) or _state:
        return
    started_ns = time.time_ns()  # entries the command writes from now on answer nothing of it
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return
    if pid == 0:  # the child: never returns
        os.close(r)
        _child(argv, w, started_ns)
    os.close(w)
    _state["child"] = (pid, r)
    atexit.register(discard)


def take(pg_url: str, scope: Scope, hashed: bool) -> Ahead | None:
    """The read ahead when it was made for exactly this read: `pg_url` and `scope`, with the
    digest (`hashed`) or without; None (and it is dropped) otherwise, or when it failed.
    Waits for the read to be done."""
    if "child" in _state:
        pid, fd = _state.pop("child")
        try:
            ahead = _ahead(pid, fd)
        except BaseException:  # a Ctrl-C while waiting: the read is the parent's no more
            _stop(pid, fd)
            raise
        if ahead is None:
            _stop(pid, fd)
            return None
        _state["ahead"] = ahead
    ahead = _state.get("ahead")
    if ahead is None:
        return None
    if (ahead.pg_url, ahead.excluded, ahead.hashed) != (pg_url, scope.excluded, hashed):
        discard()
        return None
    return ahead


def _ahead(pid: int, fd: int) -> Ahead | None:
    head = _read_frame(fd, pid)
    if head is None or head[0] != b"m":
        return None
    try:
        layout, *fields = marshal.loads(head[1])
    except (EOFError, ValueError, TypeError):
        return None
    return Ahead(pid, fd, fields) if layout == _LAYOUT and len(fields) == 7 else None


def running() -> bool:
    """Whether a read ahead was started and not yet dropped (whoever's plan it turns out to be)."""
    return bool(_state)


def discard() -> None:
    """Stop the read ahead (if it still runs) and forget it; rows already read stay with the
    Ahead that read them."""
    if "child" in _state:
        _stop(*_state.pop("child"))
    ahead = _state.pop("ahead", None)
    if ahead is not None:
        _stop(ahead.pid, ahead.fd)


def _worth_it(argv: list[str]) -> bool:
    if not hasattr(os, "fork") or os.environ.get(OFF_VARIABLE, "").strip() not in ("", "0"):
        return False
    return _plan_args(argv) is not None


def _plan_args(argv: list[str]) -> tuple[str | None, str] | None:
    """(--pg, --schemas) of a plan's command line; None for another command, or a plan that
    reads no catalog alone (--redis) or asks for help."""
    if argv[:1] != ["plan"]:
        return None
    args = argv[1:]
    given: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in ("--redis", "--help", "-h"):
            return None
        if name in ("--pg", "--schemas"):
            if not eq:
                i += 1
                if i == len(args):
                    return None
                value = args[i]
            given[name] = value
        i += 1
    return given.get("--pg"), given.get("--schemas", "schemas")


def _child(argv: list[str], w: int, started_ns: int) -> None:
    """Read the catalog as the plan will and write it to `w`; never returns, never prints."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the parent's to answer
        parent = os.getppid()
        _die_with_parent()
        if os.getppid() != parent:
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        from reconciler import methodcache

        methodcache.install()
        _read_into(argv, w, started_ns)
        methodcache.save()  # what its imports compiled, once the parent has the catalog
    except BaseException:  # the parent reads again, and says what went wrong
        pass
    finally:
        os._exit(0)


def _read_into(argv: list[str], w: int, started_ns: int) -> None:
    from reconciler.connect import connect_pg, resolve_targets, target_info
    from reconciler.errors import ConnectionFailed, LockHeld
    from reconciler.introspect.pg.catalog import read_catalog
    from reconciler.project import cache
    from reconciler.project.config import resolve_scope

    args = _plan_args(argv)
    assert args is not None
    pg_flag, schemas = args
    pg_url, redis_url = resolve_targets(pg_flag, None)
    if not pg_url or redis_url:
        return
    scope = resolve_scope(None, Path(schemas))
    hashed = cache.cache_dir() is not None
    asked = (_LAYOUT, pg_url, scope.excluded, hashed)

    def connect() -> Any:
        conn = connect_pg(pg_url, command="plan")
        if conn.info.server_version >= 140000:
            conn.execute(
                "SELECT pg_catalog.set_config('client_connection_check_interval', %s, false)",
                [_CLIENT_CHECK],
            )
        return conn

    # A second connection reads half the kinds at once, which pays when the plan waits for the
    # catalog: when the cache may answer from its digest. With nothing in the cache (it is off,
    # a fresh checkout) the plan parses every file meanwhile, and a second reader would only
    # take the other core from it: one connection reads it all, done before the files are.
    # (Entries the command itself wrote since it started, its files' load, do not count.)
    sibling = connect if cache.holds_entries(started_ns) else None
    started = time.monotonic()
    try:
        conn = connect()
        try:
            rows = read_catalog(conn, scope=scope, sibling=sibling, hash_rows=hashed)
            target = target_info(conn)
        finally:
            conn.close()
    except (LockHeld, ConnectionFailed) as exc:
        if isinstance(exc, ConnectionFailed) and time.monotonic() - started < _SLOW_FAILURE_S:
            raise  # quickly said (refused, denied, over a limit): the command tries itself
        _write_frame(w, b"m", marshal.dumps((*asked, None, (), {}, True)))
        _write_frame(w, b"e", pickle.dumps(exc))
        return
    digest = rows.digest() if hashed else None
    _write_frame(w, b"m", marshal.dumps((*asked, digest, rows.unsupported(), target, False)))
    values = (rows.rows, rows.server_version, rows.readers, rows.fingerprinted, rows.hashed)
    try:
        kind, payload = b"m", marshal.dumps(values)
    except ValueError:  # a value marshal cannot write (none of today's queries reads one)
        kind, payload = b"p", pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)
    _write_frame(w, kind, payload)


def _die_with_parent() -> None:
    """On Linux, the kernel ends this process when the parent ends (a parent that exits at
    once, after a Ctrl-C, leaves no read running behind it)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes  # deferred: start-up: the child's alone

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _write_frame(fd: int, kind: bytes, payload: bytes) -> None:
    data = memoryview(_FRAME.pack(kind, len(payload)) + payload)
    while data:
        data = data[os.write(fd, data) :]


def _read_frame(fd: int, pid: int) -> tuple[bytes, bytes] | None:
    head = _read_exactly(fd, _FRAME.size, pid)
    if head is None:
        return None
    kind, size = _FRAME.unpack(head)
    payload = _read_exactly(fd, size, pid)
    return None if payload is None else (kind, payload)


def _read_exactly(fd: int, size: int, pid: int) -> bytes | None:
    """`size` bytes from the child `pid`'s pipe; None when it ends first or is stopped (a
    SIGSTOP, a debugger: the command does not wait for it, it reads the catalog itself)."""
    chunks: list[bytes] = []
    left = size
    try:
        while left:
            ready, _, _ = select.select([fd], [], [], _STALL_CHECK_S)
            if not ready:
                if _stopped(pid):
                    return None
                continue
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
    except OSError:
        return None
    return b"".join(chunks)


def _stopped(pid: int) -> bool:
    try:
        found, status = os.waitpid(pid, os.WNOHANG | os.WUNTRACED)
    except ChildProcessError:
        return True  # gone (its pipe says so next)
    return found == pid and os.WIFSTOPPED(status)


def _loaded(payload: bytes) -> Any:
    try:
        return pickle.loads(payload)  # written by this process's own child
    except Exception:
        return None


def _stop(pid: int, fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
    with contextlib.suppress(OSError):  # it may have ended already
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
