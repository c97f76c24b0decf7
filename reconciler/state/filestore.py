"""JsonStore: the journaled, atomic, flock-serialized JSON document store under FileState.

Owns: reading and writing one document (`_read`, `_write`), changing several documents all or
nothing (`_commit`, through `.journal.json`, replayed by the next operation after a crash), the
`.lock` flock (`_locked`, `_writing`, `_reading`), and the format version in `meta.json`
(created on the first write, a newer one refused).

Must not: know what the documents mean (records, attempts, events, inventory): FileState
(file.py) names the documents and gives them their semantics.

Concurrency and durability: every read-modify-write holds an exclusive `flock` on `.lock` (reads
hold a shared one), so concurrent runs on one machine serialize; flock does not work reliably on
network file systems, and nothing serializes runs on different machines sharing this directory
(the Redis apply lock does that). Each document is written atomically: a temporary file in the
same directory, fsync, os.replace, fsync of the directory. A change of several documents
(FileState.record_apply writes the apply and the inventory; mark_rolled_back also flips the
'up' record)
is first written whole to `.journal.json`; the next operation to find a journal (a crash cut
the change short) writes its documents again before doing anything else, so readers see all of
a change or none of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from reconciler import errors


class JsonStore:
    """JSON documents under `root`. A subclass sets `format_version` (the newest format it
    knows) and the `directories` a new store starts with."""

    format_version: ClassVar[int]
    directories: ClassVar[tuple[str, ...]] = ()

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def _meta(self) -> Path:
        return self.root / "meta.json"

    @property
    def _journal(self) -> Path:
        return self.root / ".journal.json"

    # --- documents ----------------------------------------------------------------------------

    def _read(self, path: Path) -> Any:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise errors.ReconcilerError(
                f"The state file {path} is not valid JSON ({exc}).",
                detail="Reconciler writes state files atomically, so something else changed or "
                "damaged it. Restore it from version control or a backup.",
            ) from None

    def _write(self, path: Path, value: Any) -> None:
        """Write one document atomically and durably."""
        data = (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_dir(path.parent)

    def _commit(self, documents: dict[Path, Any]) -> None:
        """Write several documents so that a crash leaves all of them or (until the journal is
        replayed) the old ones. Call with the exclusive lock held."""
        if len(documents) > 1:
            entries = {str(p.relative_to(self.root)): v for p, v in documents.items()}
            self._write(self._journal, {"documents": entries})
        for path, value in documents.items():
            self._write(path, value)
        if len(documents) > 1:
            self._journal.unlink()
            _fsync_dir(self.root)

    def _replay(self) -> None:
        journal = self._read(self._journal)
        if not isinstance(journal, dict) or not isinstance(journal.get("documents"), dict):
            # A journal is complete once it exists (it is itself written atomically).
            raise errors.ReconcilerError(
                f"The state journal {self._journal} is not readable.",
                detail="Restore the state directory from version control or a backup.",
            )
        for rel, value in journal["documents"].items():
            path = (self.root / rel).resolve()
            if self.root.resolve() not in path.parents:
                raise errors.ReconcilerError(f"The state journal names a path outside: {rel!r}.")
            self._write(path, value)
        self._journal.unlink()
        _fsync_dir(self.root)

    # --- locking ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        path = self.root / ".lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            if exclusive:
                raise
            try:  # a read-only checkout: lock for reading if the file is there, else do not
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                yield
                return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            if self._journal.exists():  # a change a crash cut short: finish it first
                if not exclusive:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                if self._journal.exists():
                    self._replay()
            yield
        finally:
            os.close(fd)  # releases the flock

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """The exclusive lock, with the state created or upgraded first."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._locked(exclusive=True):
            self._ensure_locked()
            yield

    @contextlib.contextmanager
    def _reading(self) -> Iterator[bool]:
        """Yields False when there is no state yet (nothing is created); refuses newer formats."""
        if not self._meta.exists():
            yield False
            return
        with self._locked(exclusive=False):
            yield self._stored_version() > 0

    # --- format -------------------------------------------------------------------------------

    def _stored_version(self, *, refuse_newer: bool = True) -> int:
        meta = self._read(self._meta)
        if meta is None:
            return 0
        version = meta.get("format_version") if isinstance(meta, dict) else None
        if not isinstance(version, int):
            raise errors.ReconcilerError(
                f"The state file {self._meta} has no format_version.",
                detail="Restore it from version control or a backup.",
            )
        if version > self.format_version and refuse_newer:
            raise errors.Refused(
                f"The state in {self.root}/ has format version {version}, newer "
                f"than the version {self.format_version} this Reconciler knows.",
                detail="A newer Reconciler wrote it. Upgrade Reconciler to read or change this "
                "state; do not edit meta.json by hand.",
            )
        return version

    def _ensure_locked(self) -> None:
        if self._stored_version() == self.format_version:
            return
        # Format 1 is the first: nothing to migrate from. A later format adds its steps here.
        for sub in self.directories:
            (self.root / sub).mkdir(exist_ok=True)
        self._write(self._meta, {"format_version": self.format_version})


def _fsync_dir(path: Path) -> None:
    """Make a rename or unlink in `path` durable (a no-op where directories cannot be synced)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
