"""Command lines rendered on demand, one per key: a TTL change's up or down statements.

Owns: `Lines`, the sized, re-iterable sequence of redis-cli command lines a change over many
keys gives a plan (plan/__init__.py `PlannedChange.up`/`down`) instead of a tuple: each line
is rendered from its key when read (writing a file, hashing the plan, applying), so a plan over
a million keys to fix never holds a million lines. It compares equal to the tuple of the same
lines, and the plan's JSON writer (plan/jsontext.py) writes it as that list.
Must not: hold the lines, or read anything but the keys it is given.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import IO, Any

CACHE_OVER = 4096  # lines: more are kept rendered in a temporary file after a first reading
_READ = 1 << 16


class Lines(Sequence[str]):
    """`line(key)` for each of `keys` (sized and iterable any number of times), in order.

    A plan reads its lines several times (the file, the .plan.json, its hash): past
    CACHE_OVER lines, the first complete reading keeps them, one a line (a rendered command
    never holds a line break: render() escapes it), in an anonymous temporary file that later
    readings read back instead of rendering each line again."""

    __slots__ = ("_cache", "_keys", "_line")

    def __init__(self, keys: Any, line: Callable[[Any], str]) -> None:
        self._keys = keys
        self._line = line
        self._cache: IO[bytes] | None = None  # complete: every line, each ended by \n

    def __iter__(self) -> Iterator[str]:
        if self._cache is not None:
            return _read_lines(self._cache)
        if len(self) > CACHE_OVER:
            return self._render_keeping()
        return map(self._line, self._keys)

    def _render_keeping(self) -> Iterator[str]:
        cache = tempfile.TemporaryFile(prefix="reconciler-lines-")  # noqa: SIM115 (kept open)
        pending: list[str] = []
        for line in map(self._line, self._keys):
            pending.append(line)
            if len(pending) >= 1024:
                cache.write(("\n".join(pending) + "\n").encode("utf-8", "surrogatepass"))
                pending.clear()
            yield line
        cache.write("".join(f"{x}\n" for x in pending).encode("utf-8", "surrogatepass"))
        cache.flush()
        if self._cache is None:  # read to the end: complete (else dropped with the reader)
            self._cache = cache
        else:
            cache.close()

    def __del__(self) -> None:
        if self._cache is not None:
            self._cache.close()

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self)[index]
        n = len(self)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError("Lines index out of range")
        return next(islice(iter(self), i, None))

    def __reversed__(self) -> Iterator[str]:
        return reversed(tuple(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Lines | tuple | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __add__(self, other: Iterable[str]) -> tuple[str, ...]:
        return (*self, *other)

    def __radd__(self, other: Iterable[str]) -> tuple[str, ...]:
        return (*other, *self)

    def __repr__(self) -> str:
        return f"Lines({len(self)} line(s))"


def _read_lines(cache: IO[bytes]) -> Iterator[str]:
    """The lines of a complete cache, read at offsets of its own (os.pread): any number of
    readers at once, none moving another's position."""
    fd, offset, rest = cache.fileno(), 0, b""
    while chunk := os.pread(fd, _READ, offset):
        offset += len(chunk)
        *lines, rest = (rest + chunk).split(b"\n")
        for line in lines:
            yield line.decode("utf-8", "surrogatepass")
