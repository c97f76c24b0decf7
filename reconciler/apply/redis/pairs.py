"""What a plan's Redis steps were planned against, read back from the plan's own lines.

Owns: each step's inverse (`Pairs`, `inverse_steps`: up[i] pairs with down[i]), the value a
key held when planned (`planned`: its expiry for a TTL step, its DUMP payload for a prune), and
its type then (`KeyTypes`, from the change's `key_types` detail) — what executor.py guards each
command with and what the journal is told to put back.

Must not: send anything to Redis (executor.py does), or guess a guard a plan did not record.
"""

from __future__ import annotations

from typing import Any

from reconciler.ops.redis.proto import quote, split, to_bytes
from reconciler.plan import Step

__all__ = ["KeyTypes", "Pairs", "inverse_steps", "planned"]


def planned(steps: list[Step]) -> dict[tuple[int, bytes], bytes]:
    """What each key held when planned, read from the step's down command: the expiry for an
    EXPIRE (PERSIST → -1, PEXPIREAT → the instant), the DUMP payload for a DEL (RESTORE).
    Keyed by the change (`id(step.change)`) and the key: the changes of one pattern (its
    prune and its TTL fix) share an address, and each has guards of its own."""
    out: dict[tuple[int, bytes], bytes] = {}
    seen: set[int] = set()
    for step in steps:
        if id(step.change) in seen:
            continue
        seen.add(id(step.change))
        for line in step.change.down:
            args = split(line)
            if args[0] in (b"PERSIST", b"PEXPIREAT"):
                old = args[2] if args[0] == b"PEXPIREAT" else b"-1"
                out[(id(step.change), args[1])] = old
            elif args[0] == b"RESTORE":
                out[(id(step.change), args[1])] = args[3]
    return out


class KeyTypes:
    """The type each key of a TTL change had when planned, from the change's `key_types`
    detail (ops/redis/changes.py); b"" when the plan recorded none (written before types were)."""

    def __init__(self) -> None:
        self._of: dict[int, tuple[bytes, dict[str, bytes]]] = {}

    def of(self, step: Step, key: bytes) -> bytes:
        c = step.change
        if id(c) not in self._of:
            whole, each = b"", {}
            for d in c.details:
                if isinstance(d, dict) and d.get("attribute") == "key_types":
                    whole = to_bytes(d.get("type") or "")
                    each = {k: to_bytes(v) for k, v in (d.get("types") or {}).items()}
            self._of[id(c)] = (whole, each)
        whole, each = self._of[id(c)]
        return each.get(quote(key), whole)  # keyed as quoted in the files


class Pairs:
    """The line that undoes each step: up[i] pairs with down[i], either way round. A run's
    steps of one change come in the order of its lines (some left out when skipped), so a
    cursor per change finds each pair without searching the whole change per key."""

    def __init__(self) -> None:
        self._next: dict[tuple[int, int], int] = {}
        self._side: dict[int, int] = {}  # 0: the steps are up lines, 1: down lines
        # each change's lines, read once: a plan made in this run renders them on demand
        # (ops/redis/lines.py), and reading line i of those from the start each time is
        # quadratic in the keys
        self._lines: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def of(self, step: Step) -> str | None:
        c = step.change
        if id(c) not in self._lines:
            self._lines[id(c)] = (tuple(c.up), tuple(c.down))
        up, down = self._lines[id(c)]
        sides = ((up, down), (down, up))
        known = self._side.get(id(c))
        for side in (0, 1) if known is None else (known,):
            mine, other = sides[side]
            i = _find(mine, step.sql, self._next.get((id(c), side), 0))
            if i is not None:
                self._side[id(c)], self._next[(id(c), side)] = side, i + 1
                return other[i] if i < len(other) else None
        return None


def _find(lines: Any, line: str, start: int) -> int | None:
    if start < len(lines) and lines[start] == line:
        return start
    for begin in (start, 0):
        try:
            return lines.index(line, begin)
        except ValueError:
            continue
    return None


def inverse_steps(done: list[Step]) -> list[Step]:
    """The paired command of every step done, newest first (up[i] pairs with down[i])."""
    pairs = Pairs()
    inverse = [(step, pairs.of(step)) for step in done]
    return [Step(step.change, line, True) for step, line in reversed(inverse) if line]
