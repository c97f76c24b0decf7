"""The keys a scan found breaking their pattern's TTL policy, kept on disk past a few thousand.

Owns: `KeyFixes`, the collection a scan appends every key to fix to (model/redis.py
`PatternStats.fixes`), and `TypedFixes`, the view of one type's keys a plan's changes read. A
keyspace can hold millions of keys to fix; holding each as an object until the plan files are
written took memory in proportion to them. Past `RUN` keys, each run of keys is sorted by key
and pickled to an anonymous temporary file (deleted by the system when closed or when the
process ends, whatever happens), and reading merges the runs: memory stays bounded whatever
the number of keys, and a small scan (the usual case) never touches the disk.
Must not: read a server, render commands (ops/redis does), or change the order a plan lists
keys in: iteration is by key, stable for equal keys (the order they were appended in), exactly
what `sorted(fixes, key=key)` gave when every key was held in a list.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from reconciler.model.redis import KeyFix

RUN = 8192  # keys held in memory before a sorted run goes to disk
BLOCK = 128  # keys per pickled block: what each run holds in memory while runs are merged


def _by_key(fix: KeyFix) -> str:
    return fix.key


class KeyFixes:
    """Every key to fix of one pattern, appended as scanned; iterated sorted by key."""

    __slots__ = ("_count", "_file", "_runs", "_tail")

    def __init__(self, fixes: Iterable[KeyFix] = ()) -> None:
        self._tail: list[KeyFix] = []
        self._runs: list[list[int]] = []  # per run, the offsets of its blocks in _file
        self._file: IO[bytes] | None = None
        self._count = 0
        for fix in fixes:
            self.append(fix)

    def append(self, fix: KeyFix) -> None:
        self._tail.append(fix)
        self._count += 1
        if len(self._tail) >= RUN:
            self._spill()

    def __iadd__(self, other: Iterable[KeyFix]) -> KeyFixes:
        for fix in other:
            self.append(fix)
        return self

    @property
    def spilled(self) -> bool:
        """Whether some keys are on disk (more than RUN were appended)."""
        return bool(self._runs)

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="reconciler-keys-")  # noqa: SIM115 (kept open)
        self._tail.sort(key=_by_key)
        self._runs.append(_write_run(self._file, self._tail))
        self._tail = []

    def _consolidate(self) -> None:
        """Merge every run and the tail into one run, in a new file: the first reading pays
        for the merge, every later one reads the keys in order, block after block."""
        merged = tempfile.TemporaryFile(prefix="reconciler-keys-")  # noqa: SIM115 (kept open)
        offsets = _write_run(merged, self._merged())
        if self._file is not None:
            self._file.close()
        self._file, self._runs, self._tail = merged, [offsets], []

    def _run(self, offsets: list[int]) -> Iterator[KeyFix]:
        source = self._file
        assert source is not None
        for offset in offsets:
            source.seek(offset)  # runs are merged: each reads a whole block where it left off
            block = pickle.load(source)
            for key, expiry, kind in block:
                yield KeyFix(key, expiry, kind)

    def __iter__(self) -> Iterator[KeyFix]:
        if not self._runs:
            return iter(sorted(self._tail, key=_by_key))
        if len(self._runs) > 1 or self._tail:
            self._consolidate()
        return self._run(self._runs[0])

    def _merged(self) -> Iterator[KeyFix]:
        tail = sorted(self._tail, key=_by_key)
        runs = [self._run(offsets) for offsets in self._runs]
        return heapq.merge(*runs, tail, key=_by_key)  # ties: earlier runs first, as appended

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KeyFixes | list | tuple):
            return len(self) == len(other) and list(self) == sorted(other, key=_by_key)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        where = f", {len(self._runs)} run(s) on disk" if self._runs else ""
        return f"KeyFixes({self._count} key(s){where})"

    def __del__(self) -> None:
        if self._file is not None:
            self._file.close()

    def of_type(self, kind: str) -> TypedFixes:
        return TypedFixes(self, kind)


def _write_run(out: IO[bytes], fixes: Iterable[KeyFix]) -> list[int]:
    """Append `fixes` (in the order given) to `out` as pickled blocks; their offsets."""
    out.seek(0, 2)
    offsets: list[int] = []
    block: list[tuple[str, int, str]] = []
    for k in fixes:
        block.append((k.key, k.pexpiretime, k.type))
        if len(block) == BLOCK:
            offsets.append(out.tell())
            pickle.dump(block, out, protocol=pickle.HIGHEST_PROTOCOL)
            block = []
    if block:
        offsets.append(out.tell())
        pickle.dump(block, out, protocol=pickle.HIGHEST_PROTOCOL)
    return offsets


class TypedFixes:
    """The keys of one type among `source`, by key: what a pattern's TTL change lists. Sized
    and iterable any number of times; counts are taken in one pass and kept."""

    __slots__ = ("_facts", "kind", "source")

    def __init__(self, source: Iterable[KeyFix], kind: str) -> None:
        self.source = source
        self.kind = kind
        self._facts: tuple[int, int] | None = None

    def __iter__(self) -> Iterator[KeyFix]:
        kind = self.kind
        return (k for k in self.source if k.type == kind)

    def _counts(self) -> tuple[int, int]:
        if self._facts is None:
            count = missing = 0
            for fix in self:
                count += 1
                missing += fix.pexpiretime < 0
            self._facts = (count, missing)
        return self._facts

    def __len__(self) -> int:
        return self._counts()[0]

    def __bool__(self) -> bool:
        return len(self) > 0

    @property
    def without_ttl(self) -> int:
        """How many of them had no TTL at all."""
        return self._counts()[1]

    def __repr__(self) -> str:
        return f"TypedFixes({self.kind}, {len(self)} key(s))"


def fixes_of(keys: Any, kind: str) -> TypedFixes:
    """The view of `kind`'s keys in a scan's fixes (a KeyFixes, or a plain list of KeyFix)."""
    return (keys if isinstance(keys, KeyFixes) else KeyFixes(keys)).of_type(kind)
