"""A local cache of results that are pure functions of their inputs, so unchanged inputs are not
worked out again.

`plan` runs in every pull request and `drift` every few minutes, mostly over the same files and
an unchanged database. Two kinds of entries live under `.reconciler/cache/` (or
$RECONCILER_CACHE_DIR):
- a loaded `Desired` (desired/__init__.py): parsing and validating thousands of YAML files costs
  more than reading the live catalog;
- the verdict "no changes" of a Postgres plan (api.plan), keyed by the desired state's key and
  a digest of every catalog row the plan was computed from.
Every key is a sha256 over the inputs and a stamp of the code (path, size and mtime of every
module of the package, the Python version, the versions of the installed libraries): any change
to any of them is a miss. A `.reconciler` folder that is a link is not used.

Only successes are stored, so errors are always recomputed and reported in full. Entries are
pickles, and unpickling runs code: an entry is read only from a directory and a file that the
current user owns and nobody else can write, and only when it carries the HMAC of a secret
(_secret: $RECONCILER_CACHE_SECRET, else a random key of the user's kept outside the cache
folder) over its key and bytes, so that a cache folder restored from elsewhere (a CI cache
any job may write) is never unpickled unless it was written under the same secret. Anything
odd (unreadable, wrong owner, unsealed, corrupt, from another version, a link, larger than
MAX_ENTRY_BYTES) is a miss, never an error, and is never read whole. RECONCILER_NO_CACHE=1
turns it off.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import re
import stat
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

_KEEP = 16  # entries kept; the oldest are removed when a new one is written
# An entry's size at most: a loaded tree of 5,000 tables pickles to ~8 MB. A larger file named
# like an entry (a restored CI cache can hold anything) is passed over unread.
MAX_ENTRY_BYTES = 256 * 2**20
_PACKAGE = Path(__file__).resolve().parent.parent  # the whole reconciler package


def cache_dir() -> Path | None:
    """Where entries live, or None when caching is turned off."""
    if os.environ.get("RECONCILER_NO_CACHE", "").strip() not in ("", "0"):
        return None
    configured = os.environ.get("RECONCILER_CACHE_DIR")
    if configured:
        return Path(configured)
    if os.path.islink(".reconciler"):  # a checkout's link to elsewhere, pruned if followed
        return None
    return Path(".reconciler", "cache")


def key(*parts: str) -> str:
    """A key over `parts` and the code stamp."""
    h = hashlib.sha256()
    for part in (_code_stamp(), *parts):
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


def exists(entry_key: str) -> bool:
    """Whether an entry for `entry_key` is there and would be read (not whether it loads)."""
    folder = cache_dir()
    if folder is None or not _private(folder, directory=True):
        return False
    return _private(folder / f"{entry_key}.pickle", directory=False, entry=True)


def holds_entries(older_than_ns: int) -> bool:
    """Whether the cache is on and its folder holds an entry written before `older_than_ns`
    (time.time_ns(): the start of this run, whose own entries answer nothing of it): false on
    a fresh checkout, where no result can come from it. (One directory listing, no entry
    opened.)"""
    folder = cache_dir()
    if folder is None or not _private(folder, directory=True):
        return False
    try:
        with os.scandir(folder) as found:
            return any(
                _ENTRY_NAME.fullmatch(e.name)
                and e.stat(follow_symlinks=False).st_mtime_ns < older_than_ns
                for e in found
            )
    except OSError:
        return False


def get(entry_key: str) -> Any | None:
    """The stored value for `entry_key`, or None (a miss)."""
    folder = cache_dir()
    if folder is None or not _private(folder, directory=True):
        return None
    try:
        body = _sealed_body(folder / f"{entry_key}.pickle", entry_key)
        return None if body is None else pickle.loads(body)
    except Exception:  # missing, truncated or from an incompatible version: recompute
        return None


def _sealed_body(path: Path, entry_key: str) -> bytes | None:
    """The pickle an entry file holds when it carries the seal of `entry_key` under this
    user's secret, else None; OSError when it cannot be opened."""
    # without waiting: a FIFO in the folder (a restored CI cache may hold one) must not
    # hang the run; only a regular file of the folder itself, not a link, is read, and
    # only up to the size an entry can have (_private_size)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as fh:
        size = _private_size(fh.fileno())
        if size is None:
            return None
        raw = fh.read(size + 1)  # (a read of n bytes sets n bytes aside first)
    if len(raw) != size:
        return None  # written to while it was read: entries are replaced, never changed
    secret = _secret()
    seal, body = raw[:_SEAL], raw[_SEAL:]
    if secret is None or not hmac.compare_digest(seal, _seal(secret, entry_key, body)):
        return None  # not written with this user's (or this CI's) secret: never unpickled
    return body


def put(entry_key: str, value: Any) -> None:
    """Store `value` atomically; a cache that cannot be written is silently skipped."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        secret = _secret()
        if secret is None:
            return
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder, directory=True):
            return
        body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        if _SEAL + len(body) > MAX_ENTRY_BYTES:
            return  # it would never be read
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_seal(secret, entry_key, body))
                fh.write(body)
            os.replace(tmp, folder / f"{entry_key}.pickle")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(folder)
    except Exception:  # a read-only checkout, a full disk: the load still succeeded
        return


_SEAL = 32  # bytes of HMAC-SHA256 before each entry's pickle
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}\.pickle")  # a key (sha256, hex) and the suffix
SECRET_ENV = "RECONCILER_CACHE_SECRET"


def _seal(secret: bytes, entry_key: str, body: bytes) -> bytes:
    return hmac.new(secret, entry_key.encode() + b"\0" + body, hashlib.sha256).digest()


@cache
def _secret() -> bytes | None:
    """What entries are sealed with: $RECONCILER_CACHE_SECRET (a CI secret, so that jobs that
    share the cache folder trust each other's entries and nobody else's), else a random key
    of this user's, kept outside the cache folder (in $XDG_CACHE_HOME or ~/.cache,
    reconciler/cache-secret, private: readable and writable by its owner alone): a cache folder
    copied from elsewhere is then never unpickled. None (no caching) when neither can be had."""
    given = os.environ.get(SECRET_ENV, "")
    if given:
        return given.encode("utf-8", "surrogateescape")
    home = os.environ.get("XDG_CACHE_HOME")
    if not home:
        user_home = os.path.expanduser("~")
        if not os.path.isdir(user_home):
            return None  # an account without one (HOME=/nonexistent): never made here
        home = os.path.join(user_home, ".cache")
    folder = Path(home, "reconciler")
    path = folder / "cache-secret"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(32))
        if not (_private(folder, directory=True) and _private(path, directory=False)):
            return None
        if path.lstat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
            return None  # others may have read it: whatever it sealed could be forged
        key = path.read_bytes()
        return key if len(key) == 32 else None
    except OSError:
        return None


def _prune(folder: Path) -> None:
    """Remove the oldest entries past _KEEP: only files named as entries and sealed as this
    cache seals them. RECONCILER_CACHE_DIR may name a folder that holds other files (another
    tool's `*.pickle`), and those are never removed."""
    entries = sorted(
        (p for p in folder.iterdir() if _ENTRY_NAME.fullmatch(p.name)),
        key=lambda p: p.lstat().st_mtime_ns,
        reverse=True,
    )
    for old in entries[_KEEP:]:
        try:
            ours = _sealed_body(old, old.name.removesuffix(".pickle")) is not None
        except OSError:
            continue
        if ours:
            old.unlink(missing_ok=True)


def _private(path: Path, *, directory: bool, entry: bool = False) -> bool:
    """A directory or a regular file (not a link), ours and writable by nobody else; an
    `entry` no larger than any the cache writes."""
    try:
        st = path.lstat()
    except OSError:
        return False
    kind_ok = stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode)
    return kind_ok and _owned_and_unshared(st) and (not entry or _entry_sized(st))


def _private_size(fd: int) -> int | None:
    """The size of the entry open at `fd`, or None when it is not to be read (see _private)."""
    st = os.fstat(fd)
    if stat.S_ISREG(st.st_mode) and _owned_and_unshared(st) and _entry_sized(st):
        return st.st_size
    return None


def _entry_sized(st: os.stat_result) -> bool:
    return st.st_size <= MAX_ENTRY_BYTES


def _owned_and_unshared(st: os.stat_result) -> bool:
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@cache
def _code_stamp() -> str:
    """Changes whenever any module of the package changes (or another Python runs it).

    An installed package (pip's RECORD lists every module with its sha256) is identified by
    that RECORD and the size of each module: a CI job that installs the same version afresh
    gets the same stamp, so a cache restored from an earlier job is used. A source checkout
    (an editable install, or none) by the size and modification time of each module."""
    h = hashlib.sha256(f"{sys.version}|{pickle.HIGHEST_PROTOCOL}".encode())
    h.update(_libraries())
    record = _installed_record()
    if record is not None:
        h.update(record)
    for dirpath, dirnames, filenames in os.walk(_PACKAGE):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith((".py", ".sql")):
                st = os.stat(os.path.join(dirpath, name))
                rel = os.path.relpath(os.path.join(dirpath, name), _PACKAGE)
                when = "" if record is not None else f"|{st.st_mtime_ns}"
                h.update(f"{rel}|{st.st_size}{when}\n".encode())
    return h.hexdigest()


def _libraries() -> bytes:
    """The name and version of every distribution installed where Python finds packages (its
    .dist-info and .egg-info folders): the libraries that read and check the files (PyYAML,
    pglast, pydantic…) decide what a load gives, so another version of one is a miss."""
    names: list[str] = []
    for entry in sys.path:
        if not entry:
            continue  # the current directory: a project's, not where packages are installed
        try:
            names += (n for n in os.listdir(entry) if n.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue  # a zip, a folder gone, not a folder
    return "\n".join(sorted(names)).encode("utf-8", "surrogateescape")


def _installed_record() -> bytes | None:
    """pip's RECORD of this package when it is installed as files (not editable), else None."""
    parent = _PACKAGE.parent
    try:
        names = [n for n in os.listdir(parent) if n.startswith("reconciler-")]
    except OSError:
        return None
    for name in names:
        if not name.endswith(".dist-info"):
            continue
        try:
            record = (parent / name / "RECORD").read_bytes()
        except OSError:
            continue
        if b"\nreconciler/__init__.py,sha256=" in record or record.startswith(
            b"reconciler/__init__.py,sha256="
        ):
            return record
    return None
