"""Key-pattern inference for `export --redis`: keys in, counted templates out.

Owns: the pattern table that aggregates keys into templates (shapes.py reads
them) and generalizes positions whose values vary too much (`PatternTable`), per-pattern
counts, TTL rounding and the class/TTL suggestion (`PatternSummary`).

Must not: talk to Redis, hold keys (the table, a few counters and three example keys per
pattern), decide the final patterns (fold.py), or write YAML and files
(write.py scans and writes).

**Cardinality.** When more than `max_literals` different segments (literal, or with
placeholders inside) follow the same prefix in keys of the same length, that position becomes
`{name}` for all of them (`app:user:alice:profile` … → `app:user:{name}:profile`): names, not
numbers, identify the entities. And when the table holds more than 5,000 templates (names
that combine: words in three positions, 60 of each), the positions with the most values are widened
until it holds fewer: the table stays small whatever the keyspace holds.

Per pattern the summary counts keys and types, how many expire, and the TTLs observed, rounded
up to a stable unit (1 s up to 10 s, 5 s up to a minute, 1 min up to an hour, 5 min up to a day,
1 h beyond), so that exporting twice a few seconds apart gives the same text. A suggested `ttl`
is the first usual TTL (60, 300, 3600, 86400, …) at or above the longest left on a live key: a
key written after the scan starts from its full TTL again, so the TTL left is less than the one
set (3480 s left suggests 3600). It is never above the largest TTL the loader takes. The
suggested class:

- not every key expires: `queue` for lists, else `persistent` (a policy that plans no EXPIRE
  on keys that live on today);
- every key expires: `ratelimit` for a sorted set; `cache` for strings/hashes with a TTL of an
  hour; `session` for strings/hashes with a TTL of a day; otherwise no class.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from reconciler.desired.keyspec import MAX_TTL
from reconciler.export.redis.shapes import NAME, Template, key_template, whole_slot
from reconciler.model.keypattern import Segment
from reconciler.model.redis import CLASS_TTL, CLASS_TYPES, REDIS_TYPES

DEFAULT_MAX_LITERALS = 64
DEFAULT_MAX_PATTERNS = 5000  # the table's bound (about 1 KB each)
MAX_EXAMPLES = 3


def round_ttl(pttl_ms: int) -> int:
    """A TTL in milliseconds as whole seconds, rounded up to a stable unit (never below 1)."""
    seconds = max(1, -(-pttl_ms // 1000))
    for limit, unit in ((10, 1), (60, 5), (3600, 60), (86400, 300)):
        if seconds <= limit:
            return -(-seconds // unit) * unit
    return -(-seconds // 3600) * 3600


# TTLs people set: a suggested `ttl` is the first at or above the longest TTL left on a live key,
# since a key written after the scan starts again from its full TTL (3480 s left → 3600).
# fmt: off
_USUAL_TTLS = (
    1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1200, 1800, 2700, 3600,
    5400, 7200, 10800, 14400, 21600, 28800, 43200, 86400, 172800, 259200, 604800, 1209600,
    2592000, 5184000, 7776000, 15552000, 31536000, 63072000, 157680000, 315360000,
)
# fmt: on
DAY = 86400


def suggested_ttl(seconds: int) -> int:
    """The TTL to suggest for keys with at most `seconds` left (never above MAX_TTL)."""
    usual = next((t for t in _USUAL_TTLS if t >= seconds), -(-seconds // DAY) * DAY)
    return min(usual, MAX_TTL)


# --- aggregation --------------------------------------------------------------------------------


@dataclass(slots=True)
class PatternSummary:
    """What the scan saw for one pattern (bounded: a counter per rounded TTL, three keys)."""

    count: int = 0
    types: Counter[str] = field(default_factory=Counter)
    with_ttl: int = 0
    ttls: Counter[int] = field(default_factory=Counter)  # rounded TTL (s) → keys
    examples: list[bytes] = field(default_factory=list)
    beyond: int = 0  # keys whose TTL is above the largest a spec can state

    def add(self, key_type: str, pttl: int, key: bytes | None = None) -> None:
        self.count += 1
        self.types[key_type] += 1
        if pttl >= 0:
            self.with_ttl += 1
            self.ttls[round_ttl(pttl)] += 1
            self.beyond += pttl > MAX_TTL * 1000
        if key is not None and len(self.examples) < MAX_EXAMPLES:
            self.examples.append(key)

    def merge(self, other: PatternSummary) -> None:
        self.count += other.count
        self.types.update(other.types)
        self.with_ttl += other.with_ttl
        self.ttls.update(other.ttls)
        self.beyond += other.beyond
        room = MAX_EXAMPLES - len(self.examples)
        self.examples.extend(other.examples[: max(room, 0)])

    @property
    def dominant_type(self) -> str:
        order = {t: i for i, t in enumerate(REDIS_TYPES)}
        return min(self.types, key=lambda t: (-self.types[t], order.get(t, len(order)), t))

    @property
    def every_key_expires(self) -> bool:
        return self.with_ttl == self.count

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
        if not self.every_key_expires:
            return ("queue" if kind == "list" else "persistent"), None
        if self.beyond:
            return None, None  # "practically never" (EXPIREAT in the year 3000): no policy
        ttl = suggested_ttl(self.max_ttl or 1)
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


def _named(segment: Segment) -> bool:
    """Whether a segment is a value the cardinality rule counts: not empty (no placeholder can
    stand for an empty segment) and not a placeholder already."""
    return bool(segment) and whole_slot(segment) is None


_Position = tuple[int, Template]  # (key length in segments, the segments before the position)


class PatternTable:
    """Key templates → summaries, generalizing positions whose values vary too much."""

    def __init__(
        self, max_literals: int = DEFAULT_MAX_LITERALS, max_patterns: int = DEFAULT_MAX_PATTERNS
    ) -> None:
        self.max_literals = max_literals
        self.max_patterns = max_patterns
        self.patterns: dict[Template, PatternSummary] = {}
        self.keys = 0
        self.moved = 0  # keys not read: their slot moved to another node during the scan
        self._values: dict[_Position, set[Segment]] = {}  # position → segments seen there
        self._wide: set[_Position] = set()  # positions that are `{name}` for every value

    def add(self, key: bytes | str, key_type: str, pttl: int) -> None:
        self.keys += 1
        template = self._generalize(key_template(key))
        summary = self.patterns.get(template)
        if summary is None:
            template = self._admit(template)
            summary = self.patterns.setdefault(template, PatternSummary())
            if len(self.patterns) > self.max_patterns:
                self._shrink()
                template = self._generalize(template)
                summary = self.patterns[template]
        raw = key.encode("utf-8", "surrogateescape") if isinstance(key, str) else key
        summary.add(key_type, pttl, raw)

    def _shrink(self) -> None:
        """Widen the positions with the most values until the table is within its bound:
        names that combine (`<a>:<b>:<c>`, 60 of each) cannot make it grow with the keys."""
        while len(self.patterns) > self.max_patterns:
            crowded = [(len(v), p) for p, v in self._values.items() if len(v) > 1]
            if not crowded:
                return
            _, position = max(crowded, key=lambda c: (c[0], -len(c[1][1])))
            self._widen(position)

    def _generalize(self, template: Template) -> Template:
        if not self._wide:
            return template
        out = list(template)
        n = len(out)
        for i, segment in enumerate(out):
            if _named(segment) and (n, tuple(out[:i])) in self._wide:
                out[i] = (NAME,)
        return tuple(out)

    def _admit(self, template: Template) -> Template:
        """Count a new template's values; widen positions past the bound. The template the keys
        go to (itself, or wider)."""
        n = len(template)
        for i, segment in enumerate(template):
            if not _named(segment):
                continue
            seen = self._values.setdefault((n, template[:i]), set())
            seen.add(segment)
            if len(seen) > self.max_literals:
                self._widen((n, template[:i]))
                return self._admit(self._generalize(template))
        return template

    def _widen(self, position: _Position) -> None:
        n, prefix = position
        at = len(prefix)
        self._wide.add(position)
        for stale in [p for p in self._values if p[0] == n and p[1][:at] == prefix]:
            if len(stale[1]) == at or _named(stale[1][at]):
                del self._values[stale]
        moved = [t for t in self.patterns if len(t) == n and t[:at] == prefix and _named(t[at])]
        for old in moved:
            summary = self.patterns.pop(old)
            target = self._admit(self._generalize(old))
            if target in self.patterns:
                self.patterns[target].merge(summary)
            else:
                self.patterns[target] = summary


__all__ = [
    "DEFAULT_MAX_LITERALS",
    "MAX_EXAMPLES",
    "PatternSummary",
    "PatternTable",
    "round_ttl",
    "suggested_ttl",
]
