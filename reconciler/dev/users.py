"""The OS user a dev server runs as, and running server tools as that user.

Owns: choosing the user (ourselves, or an unprivileged account when we are root, because
PostgreSQL refuses to run as root; created once if the system has none), running a tool as that
user with root's privileges dropped, and making a new data directory reachable by it.

Must not: widen access to a directory it did not create (it refuses and says what to do instead),
or switch users when it is not root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import ReconcilerError

__all__ = [
    "FALLBACK_OS_USER",
    "OsUser",
    "current_user",
    "lookup_user",
    "make_enterable",
    "mkdirs",
    "run_tool",
    "server_user",
]

FALLBACK_OS_USER = "reconciler"  # created when running as root and no `postgres` OS user exists


@dataclass(frozen=True, slots=True)
class OsUser:
    name: str
    uid: int
    gid: int
    home: str
    groups: tuple[int, ...]

    @classmethod
    def from_pwd(cls, entry: pwd.struct_passwd) -> OsUser:
        groups = tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir, groups)

    @property
    def needs_switch(self) -> bool:
        return self.uid != os.geteuid()


def current_user() -> OsUser:
    return OsUser.from_pwd(pwd.getpwuid(os.geteuid()))


def lookup_user(name: str) -> OsUser | None:
    try:
        return OsUser.from_pwd(pwd.getpwnam(name))
    except KeyError:
        return None


def server_user() -> OsUser:
    """The OS user PostgreSQL runs as: ourselves, or an unprivileged account when we are root.

    PostgreSQL refuses to run as root. `postgres` (created by the distribution package) is the
    natural choice; otherwise a system account with no home and no login shell is created once.
    """
    if os.geteuid() != 0:
        return current_user()
    for name in ("postgres", FALLBACK_OS_USER):
        if (user := lookup_user(name)) is not None:
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
    if (user := lookup_user(FALLBACK_OS_USER)) is not None:
        return user
    raise ReconcilerError(
        f"Could not create the OS user {FALLBACK_OS_USER!r} to run PostgreSQL as "
        "(PostgreSQL refuses to run as root).",
        detail=(result.stderr or result.stdout).strip() or None,
    )


def run_tool(
    argv: list[str], *, user: OsUser | None = None, timeout: float = 120
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


def mkdirs(path: Path) -> list[Path]:
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


def _can_enter(path: Path, user: OsUser) -> bool:
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


def can_reach(path: Path, user: OsUser) -> bool:
    """Whether `user` can pass through every existing directory on the way to `path`."""
    return all(_can_enter(d, user) for d in reversed(path.parents) if d.exists())


def make_enterable(datadir: Path, user: OsUser, *, created: list[Path]) -> None:
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
