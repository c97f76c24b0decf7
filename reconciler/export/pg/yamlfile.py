"""How export writes its YAML files: file names, the files themselves and `drop_none`.

Owns: one file name per object (safe characters, unique case-insensitively within a folder),
`Files` (writes each document's text, yamltext.py's, making each folder once) and `drop_none`.
`Block` (a multi-line text written as a literal block) and `DUMPER` (the PyYAML dumper whose
text the files hold) are yamltext.py's, named here too.
Must not: decide what a document holds (tables.py, objects.py, grants.py, aggregates.py,
rules.py do) or where it goes (write.py).
"""

from __future__ import annotations

import os
import queue
import re
import threading
from pathlib import Path
from typing import Any

from reconciler.export.pg.yamltext import DUMPER, Block, YamlText

__all__ = ["DUMPER", "Block", "Files", "drop_none", "file_name"]

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != () and v != []}


def file_name(schema: str, name: str, taken: set[str]) -> str:
    base = name if schema == "public" else f"{schema}.{name}"
    stem = _SAFE.sub("_", base).strip("._") or "object"
    candidate, n = stem, 2
    while candidate.lower() in taken:  # case-insensitive file systems, sanitized collisions
        candidate, n = f"{stem}_{n}", n + 1
    taken.add(candidate.lower())
    return f"{candidate}.yaml"


class Files:
    """Writes one export's documents as YAML files, and remembers them in order.

    A thread of its own creates the files while the next documents are turned into text:
    creating a file costs the kernel about as much as its text costs Python (~0.2 ms each on
    the bench's disk), and an export of a thousand tables creates a thousand. Use it as a
    context manager: leaving waits for every file, and the first error stops the writing and
    is raised (a failed write is never dropped)."""

    def __init__(self) -> None:
        self.yaml = YamlText()
        self.written: list[Path] = []
        self._folders: set[Path] = set()
        self._queue: queue.SimpleQueue[tuple[Path, bytes] | None] = queue.SimpleQueue()
        self._failed: list[BaseException] = []
        self._stop = False
        self._writer = threading.Thread(
            target=self._write_all, name="reconciler-export-files", daemon=True
        )

    def __enter__(self) -> Files:
        self._writer.start()
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        self._stop = kind is not None  # the export failed: the rest need not be written
        self._queue.put(None)
        self._writer.join()
        if self._failed and kind is None:
            raise self._failed[0]

    def _write_all(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._stop or self._failed:
                continue  # drained, not written
            try:
                write_file(*item)
            except BaseException as exc:  # raised by the main thread (dump or __exit__)
                self._failed.append(exc)

    def dump(self, path: Path, doc: dict[str, Any]) -> None:
        if self._failed:
            raise self._failed[0]
        text = self.yaml.text(doc)
        folder = path.parent
        if folder not in self._folders:  # before any of its files is queued
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        self._queue.put((path, text.encode("utf-8")))
        self.written.append(path)


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def write_file(path: Path, data: bytes) -> None:
    """`data` as the whole of the file at `path`, as write_bytes() would leave it, in three
    system calls: a Python file object adds five more (fstat, isatty, seeks), and an export of
    a thousand tables writes a thousand files."""
    fd = os.open(path, _CREATE, 0o666)  # the umask applies, as to open()
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:  # a full disk: say which file, as open() would
        raise OSError(exc.errno, exc.strerror, os.fspath(path)) from None
    finally:
        os.close(fd)
