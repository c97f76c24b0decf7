"""Key-pattern inference for `export --redis`: keys in, loadable patterns with counts out.

Owns: classifying ':'-separated segments (`looks_like_id`), the pattern table that aggregates
keys into patterns and generalizes literals that vary too much (`PatternTable`), per-pattern
counts, TTL rounding and the class/TTL suggestion (`PatternSummary`), and folding the table
into patterns the desired-state loader accepts (`loadable_entries`).

Must not: talk to Redis, hold keys (only the pattern table and bounded counters per pattern),
or write YAML and files (reconciler/export_redis.py scans and writes).

A key is split on ':' and a segment becomes a placeholder (`{id}`, then `{id2}`, ... within one
pattern) when it looks like an identifier:

- all digits (`42`), a UUID, hexadecimal of 8 or more characters, or a dotted IPv4 address;
- an opaque token: 16 or more characters of [A-Za-z0-9_-] (and the base64 `+/=`) with at least
  one letter and one digit;
- a segment that could not be written literally: not UTF-8, or containing a brace (a cluster
  hash tag such as `{user1}`; braces are pattern syntax), a glob character or a control
  character (the loader refuses those in patterns);
- a literal that varies too much: when more than `max_literals` different literal segments
  follow the same (generalized) prefix, that position becomes a placeholder for all of them
  (`app:user:alice:profile` ... → `app:user:{id}:profile`), which keeps the pattern table small
  when names, not numbers, identify the entities.

Per pattern the summary counts keys and types, how many expire, and the TTLs observed, rounded
up to a stable unit (1 s up to 10 s, 5 s up to a minute, 1 min up to an hour, 5 min up to a day,
1 h beyond), so that exporting twice a few seconds apart gives the same text, and a suggested
`ttl` is never below a live key's TTL. The suggested class:

- not every key expires: `queue` for lists, else `persistent` (a policy that would plan no
  EXPIRE on keys that live on today);
- every key expires: `ratelimit` for a sorted set; `cache` for strings/hashes with a TTL of an
  hour; `session` for strings/hashes with a TTL of a day; otherwise no class.

Folding: every loadable pattern has two or more non-empty segments, and no key can match two
patterns. Patterns are taken biggest first: one that a pattern already taken covers
(`app:queue:emails` under `app:queue:{id}`) is folded into it, its counts included; one that
crosses a bigger pattern (`app:{id}:config` and `app:cache:{id}` both match `app:cache:config`)
or would swallow it (`app:{id}:{id2}`) is kept with the reason (`Entry.problem`), to be written
commented out for the reviewer, as is any pattern the loader would refuse (a key without ':',
an empty segment).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from reconciler.model.redis import CLASS_TTL, CLASS_TYPES, REDIS_TYPES

DEFAULT_MAX_LITERALS = 64

_DIGITS = re.compile(r"[0-9]+\Z")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_HEX = re.compile(r"[0-9a-fA-F]{8,}\Z")
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}\Z")
_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{16,}\Z")
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"[0-9]")
# Braces are placeholder syntax, glob characters and control characters are refused in patterns:
# a segment with any of them cannot be written literally.
_UNWRITABLE = re.compile(r"[{}*?\[\]\\\x00-\x1f\x7f]")

Segments = tuple[str | None, ...]  # None: a placeholder


def looks_like_id(segment: str) -> bool:
    """Whether one ':'-separated segment is an identifier (becomes a placeholder)."""
    if not segment:
        return False
    if _UNWRITABLE.search(segment):
        return True
    if _DIGITS.match(segment) or _UUID.match(segment) or _HEX.match(segment):
        return True
    if _IPV4.match(segment):
        return True
    return bool(_TOKEN.match(segment) and _LETTER.search(segment) and _DIGIT.search(segment))


def _segments(key: bytes | str) -> Segments:
    raw = key.encode("utf-8", "surrogateescape") if isinstance(key, str) else key
    out: list[str | None] = []
    for part in raw.split(b":"):
        try:
            text = part.decode("utf-8")
        except UnicodeDecodeError:
            out.append(None)  # binary: an identifier, and not writable as YAML text anyway
            continue
        out.append(None if looks_like_id(text) else text)
    return tuple(out)


def render_pattern(segs: Segments) -> str:
    """(app, session, None) → `app:session:{id}`; later placeholders are {id2}, {id3}, ..."""
    out, n = [], 0
    for seg in segs:
        if seg is None:
            n += 1
            out.append("{id}" if n == 1 else f"{{id{n}}}")
        else:
            out.append(seg)
    return ":".join(out)


def round_ttl(pttl_ms: int) -> int:
    """A TTL in milliseconds as whole seconds, rounded up to a stable unit (never below 1)."""
    seconds = max(1, -(-pttl_ms // 1000))
    for limit, unit in ((10, 1), (60, 5), (3600, 60), (86400, 300)):
        if seconds <= limit:
            return -(-seconds // unit) * unit
    return -(-seconds // 3600) * 3600


# --- aggregation --------------------------------------------------------------------------------


@dataclass(slots=True)
class PatternSummary:
    """What the scan saw for one inferred pattern (bounded: one counter per rounded TTL)."""

    count: int = 0
    types: Counter[str] = field(default_factory=Counter)
    with_ttl: int = 0
    ttls: Counter[int] = field(default_factory=Counter)  # rounded TTL (s) → keys

    def add(self, key_type: str, pttl: int) -> None:
        self.count += 1
        self.types[key_type] += 1
        if pttl >= 0:
            self.with_ttl += 1
            self.ttls[round_ttl(pttl)] += 1

    def merge(self, other: PatternSummary) -> None:
        self.count += other.count
        self.types.update(other.types)
        self.with_ttl += other.with_ttl
        self.ttls.update(other.ttls)

    @property
    def dominant_type(self) -> str:
        order = {t: i for i, t in enumerate(REDIS_TYPES)}
        return min(self.types, key=lambda t: (-self.types[t], order.get(t, len(order)), t))

    @property
    def max_ttl(self) -> int | None:
        return max(self.ttls) if self.ttls else None

    @property
    def median_ttl(self) -> int | None:
        if not self.ttls:
            return None
        rank, seen = (self.with_ttl + 1) // 2, 0
        for ttl in sorted(self.ttls):
            seen += self.ttls[ttl]
            if seen >= rank:
                return ttl
        return None  # unreachable: the counts add up to with_ttl

    def suggestion(self) -> tuple[str | None, int | None]:
        """(class, ttl to write or None)."""
        kind = self.dominant_type
        if self.with_ttl < self.count:
            return ("queue" if kind == "list" else "persistent"), None
        ttl = self.max_ttl
        if kind == "zset":
            cls: str | None = "ratelimit"
        elif ttl == CLASS_TTL["cache"] and kind in CLASS_TYPES["cache"]:
            cls = "cache"
        elif ttl == CLASS_TTL["session"] and kind in CLASS_TYPES["session"]:
            cls = "session"
        else:
            cls = None
        default = CLASS_TTL.get(cls) if cls else None
        return cls, (None if ttl == default else ttl)


class PatternTable:
    """Inferred patterns → summaries, generalizing literals that vary too much (see module)."""

    def __init__(self, max_literals: int = DEFAULT_MAX_LITERALS) -> None:
        self.max_literals = max_literals
        self.patterns: dict[Segments, PatternSummary] = {}
        self._literals: dict[Segments, set[str]] = {}  # prefix → literals seen right after it
        self._wide: set[Segments] = set()  # prefixes whose next segment is a placeholder

    def add(self, key: bytes | str, key_type: str, pttl: int) -> None:
        segs = self._generalize(_segments(key))
        summary = self.patterns.get(segs)
        if summary is None:
            self.patterns[segs] = PatternSummary()
            self._register(segs)
            segs = self._generalize(segs)  # registering may have widened it
            summary = self.patterns[segs]
        summary.add(key_type, pttl)

    def _generalize(self, segs: Segments) -> Segments:
        if not self._wide:
            return segs
        out = list(segs)
        for i, seg in enumerate(out):
            if seg is not None and tuple(out[:i]) in self._wide:
                out[i] = None
        return tuple(out)

    def _register(self, segs: Segments) -> None:
        for i, seg in enumerate(segs):
            if seg is None:
                continue
            prefix = segs[:i]
            seen = self._literals.setdefault(prefix, set())
            seen.add(seg)
            if len(seen) > self.max_literals:
                self._widen(prefix)
                return  # segs itself was merged into the wider pattern

    def _widen(self, prefix: Segments) -> None:
        at = len(prefix)
        self._wide.add(prefix)
        del self._literals[prefix]
        for stale in [p for p in self._literals if len(p) > at and p[:at] == prefix]:
            if stale[at] is not None:
                del self._literals[stale]
        victims = [
            p for p in self.patterns if len(p) > at and p[:at] == prefix and p[at] is not None
        ]
        for old in victims:
            summary = self.patterns.pop(old, None)
            if summary is None:
                continue
            target = self._generalize(old)
            if target in self.patterns:
                self.patterns[target].merge(summary)
            else:
                self.patterns[target] = summary
                self._register(target)


# --- folding ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Entry:
    """One pattern as the export writes it: live, or commented out with `problem`."""

    segs: Segments
    summary: PatternSummary
    problem: str | None = None  # why it is written commented out
    joined: int = 0  # covered patterns folded into this one

    @property
    def text(self) -> str:
        return render_pattern(self.segs)


def _covers(general: Segments, narrow: Segments) -> bool:
    return len(general) == len(narrow) and all(
        g is None or g == n for g, n in zip(general, narrow, strict=True)
    )


def _overlap(a: Segments, b: Segments) -> bool:
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


def loadable_entries(table: PatternTable) -> list[Entry]:
    """The patterns as the desired-state loader accepts them: every pattern has two or more
    non-empty segments and no two can match the same key.

    Patterns are taken biggest first (then the more general, then by text). One that overlaps
    a pattern already taken is folded into it when that pattern covers it (`app:queue:emails`
    under `app:queue:{id}`: its keys match there anyway), else written commented out (it crosses
    a bigger pattern, or would swallow one), as is any pattern the loader would refuse."""
    out: list[Entry] = []
    loadable: list[Entry] = []
    for segs, summary in table.patterns.items():
        if len(segs) < 2:
            problem = "a key pattern needs at least two ':'-separated segments"
        elif "" in segs:
            problem = "a key pattern cannot have an empty segment"
        else:
            problem = None
        (out if problem else loadable).append(Entry(segs, summary, problem))
    loadable.sort(key=lambda e: (-e.summary.count, -e.segs.count(None), e.text))
    accepted: list[Entry] = []
    for entry in loadable:
        rival = next((a for a in accepted if _overlap(a.segs, entry.segs)), None)
        if rival is None:
            accepted.append(entry)
        elif _covers(rival.segs, entry.segs):
            rival.summary.merge(entry.summary)
            rival.joined += 1
        else:
            entry.problem = f"it overlaps '{rival.text}', which has more keys"
            out.append(entry)
    return out + accepted


__all__ = [
    "DEFAULT_MAX_LITERALS",
    "Entry",
    "PatternSummary",
    "PatternTable",
    "Segments",
    "loadable_entries",
    "looks_like_id",
    "render_pattern",
    "round_ttl",
]
