"""Key-pattern inference for `export --redis`: keys in, a small set of disjoint patterns out.

Owns: reading a key as a template (`key_template`: literal text and placeholders of a kind,
reconciler/model/keypattern.py), the pattern table that aggregates keys into templates and
generalizes positions whose values vary too much (`PatternTable`), per-pattern counts, TTL
rounding and the class/TTL suggestion (`PatternSummary`), and turning the table into patterns
the desired-state loader accepts, every key placed in exactly one (`infer`).

Must not: talk to Redis, hold keys (the table, a few counters and three example keys per
pattern), or write YAML and files (reconciler/export_redis.py scans and writes).

**A key as a template.** The key is split on ':' and each segment read by its shape:

- a whole segment that is a UUID, a date (YYYY-MM-DD), digits, or hexadecimal of 8 or more
  characters becomes a placeholder of that kind (`{id:uuid}`, `{date:date}`, `{id:int}`,
  `{id:hex}`); one that is an e-mail address, an IPv4 address, a host name (two or more
  lowercase labels, with a digit or hyphen and no date: `worker-3.internal`) or an opaque token
  (16 or more characters with a long run mixing letters and digits) becomes `{email}`, `{ip}`,
  `{host}` or `{token}`;
- a segment that cannot be written literally (not UTF-8, or holding a brace, a glob or a
  control character), or longer than 200 characters, becomes `{id}`;
- otherwise runs inside the segment, between characters that are not letters or digits, are
  read the same way: `celery-task-meta-<uuid>` → `celery-task-meta-{id:uuid}`,
  `user_profile_42` → `user_profile_{id:int}`; what is left is literal text.

**Cardinality.** When more than `max_literals` different segments (literal, or with
placeholders inside) follow the same prefix in keys of the same length, that position becomes
`{name}` for all of them (`app:user:alice:profile` … → `app:user:{name}:profile`): names, not
numbers, identify the entities. The table stays small whatever the keyspace holds.

**Structure.** Two or more literal values at one position whose keys below look alike — each
with two or more templates after it (with their types and expiry), sharing at least two and
half of them — are one variable: BullMQ's `bull:emails:wait`, `bull:emails:{id:int}`,
`bull:reports:wait`, … become `bull:{name}:wait` and `bull:{name}:{id:int}`. So do eight or
more values that end the key with the same type and expiry (`app:lock:<name>`), or that have
the same one template below and hold a digit (short identifiers); fewer (`queue:default`,
`queue:mailers`) stay literal, as do kinds of entity (`app:user:{id:int}`, `app:order:…`).

**Every key in one pattern.** Templates that differ only in the kinds of their placeholders
are joined (int and hex give hex, other kinds give any text). Two patterns that can still match
one key are replaced by the narrowest pattern covering both, until no two compete (the loader's
rule, with its precedence: a pattern with a literal first segment wins over one that starts
with a placeholder, so those two may overlap) — unless that would turn literal text of the
bigger into a placeholder: then the smaller is returned with `problem` set, its keys counted,
never dropped. A pattern whose keys have several types says so.

Per pattern the summary counts keys and types, how many expire, and the TTLs observed, rounded
up to a stable unit (1 s up to 10 s, 5 s up to a minute, 1 min up to an hour, 5 min up to a day,
1 h beyond), so that exporting twice a few seconds apart gives the same text, and a suggested
`ttl` is never below a live key's TTL. The suggested class:

- not every key expires: `queue` for lists, else `persistent` (a policy that plans no EXPIRE
  on keys that live on today);
- every key expires: `ratelimit` for a sorted set; `cache` for strings/hashes with a TTL of an
  hour; `session` for strings/hashes with a TTL of a day; otherwise no class.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from reconciler.model.keypattern import KINDS, Segment, Slot, literal_text, meet, render
from reconciler.model.redis import CLASS_TTL, CLASS_TYPES, REDIS_TYPES

DEFAULT_MAX_LITERALS = 64
MAX_LITERAL_LENGTH = 200  # a longer segment is data, not a name: a placeholder
MAX_EXAMPLES = 3

Template = tuple[Segment, ...]

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TOKEN = r"(?=[A-Za-z0-9]*[A-Za-z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{16,}"
# Runs inside a segment, between characters that are not letters or digits.
_RUN = re.compile(
    rf"(?<![A-Za-z0-9])(?:(?P<uuid>{_UUID})|(?P<date>{_DATE})|(?P<int>[0-9]+)"
    rf"|(?P<hex>[0-9a-fA-F]{{8,}})|(?P<token>{_TOKEN}))(?![A-Za-z0-9])"
)
_WHOLE = {
    "uuid": re.compile(_UUID + r"\Z"),
    "date": re.compile(_DATE + r"\Z"),
    "int": re.compile(r"[0-9]+\Z"),
    "hex": re.compile(r"[0-9a-fA-F]{8,}\Z"),
}
_EMAIL = re.compile(
    r"[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\Z"
)
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}\Z")
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_HOST = re.compile(rf"(?=.*[0-9-]){_LABEL}(?:\.{_LABEL})*\.[a-z][a-z0-9-]*\Z")
_DATE_RUN = re.compile(_DATE)
_OPAQUE = re.compile(r"[A-Za-z0-9_\-+/=]{16,}\Z")
_MIXED_RUN = re.compile(_TOKEN)
# Braces are placeholder syntax, glob characters and control characters are refused in patterns:
# a segment with any of them cannot be written literally.
_UNWRITABLE = re.compile(r"[{}*?\[\]\\\x00-\x1f\x7f]")

_ID = Slot("id")
_NAME = Slot("name")
_NAMES = {"uuid": "id", "date": "date", "hex": "id", "int": "id", "token": "token"}


_LITERALS: dict[str, Segment] = {}  # segments read as literal text: they repeat in every key
_MAX_LITERALS_KEPT = 4096


def segment_template(text: str) -> Segment:
    """One ':'-separated segment as literal text and placeholders (see the module)."""
    known = _LITERALS.get(text)
    if known is not None:
        return known
    template = _read_segment(text)
    if len(template) == 1 and isinstance(template[0], str):
        if len(_LITERALS) >= _MAX_LITERALS_KEPT:
            _LITERALS.clear()
        _LITERALS[text] = template
    return template


def _read_segment(text: str) -> Segment:
    if not text:
        return ()
    if len(text) > MAX_LITERAL_LENGTH or _UNWRITABLE.search(text):
        return (_ID,)
    for kind, regex in _WHOLE.items():
        if regex.match(text):
            return (Slot(_NAMES[kind], kind),)
    if _EMAIL.match(text):
        return (Slot("email"),)
    if _IPV4.match(text):
        return (Slot("ip"),)
    mixed = _MIXED_RUN.search(text)
    if _HOST.match(text) and not mixed and not _DATE_RUN.search(text):
        return (Slot("host"),)
    if _OPAQUE.match(text) and mixed:
        return (Slot("token"),)
    parts: list[str | Slot] = []
    pos = 0
    for m in _RUN.finditer(text):
        if m.start() > pos:
            parts.append(text[pos : m.start()])
        kind = m.lastgroup or "int"
        parts.append(Slot(_NAMES[kind], "any" if kind == "token" else kind))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def looks_like_id(segment: str) -> bool:
    """Whether a whole segment becomes a placeholder."""
    template = segment_template(segment)
    return len(template) == 1 and isinstance(template[0], Slot)


def key_template(key: bytes | str) -> Template:
    raw = key.encode("utf-8", "surrogateescape") if isinstance(key, str) else key
    out: list[Segment] = []
    for part in raw.split(b":"):
        try:
            text = part.decode("utf-8")
        except UnicodeDecodeError:
            out.append((_ID,))  # binary: not writable as YAML text
            continue
        out.append(segment_template(text))
    return tuple(out)


def _whole_slot(segment: Segment) -> Slot | None:
    return segment[0] if len(segment) == 1 and isinstance(segment[0], Slot) else None


def render_pattern(template: Template) -> str:
    """The template as pattern text, its placeholders named apart (`{id}`, `{id2}`, …)."""
    used: Counter[str] = Counter()
    out: list[Segment] = []
    for segment in template:
        parts: list[str | Slot] = []
        for p in segment:
            if isinstance(p, Slot):
                used[p.name] += 1
                n = used[p.name]
                p = Slot(p.name if n == 1 else f"{p.name}{n}", p.kind)
            parts.append(p)
        out.append(tuple(parts))
    return render(tuple(out))


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
    """What the scan saw for one pattern (bounded: a counter per rounded TTL, three keys)."""

    count: int = 0
    types: Counter[str] = field(default_factory=Counter)
    with_ttl: int = 0
    ttls: Counter[int] = field(default_factory=Counter)  # rounded TTL (s) → keys
    examples: list[bytes] = field(default_factory=list)

    def add(self, key_type: str, pttl: int, key: bytes | None = None) -> None:
        self.count += 1
        self.types[key_type] += 1
        if pttl >= 0:
            self.with_ttl += 1
            self.ttls[round_ttl(pttl)] += 1
        if key is not None and len(self.examples) < MAX_EXAMPLES:
            self.examples.append(key)

    def merge(self, other: PatternSummary) -> None:
        self.count += other.count
        self.types.update(other.types)
        self.with_ttl += other.with_ttl
        self.ttls.update(other.ttls)
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


_Position = tuple[int, Template]  # (key length in segments, the segments before the position)


class PatternTable:
    """Key templates → summaries, generalizing positions whose values vary too much."""

    def __init__(self, max_literals: int = DEFAULT_MAX_LITERALS) -> None:
        self.max_literals = max_literals
        self.patterns: dict[Template, PatternSummary] = {}
        self.keys = 0
        self._values: dict[_Position, set[Segment]] = {}  # position → segments seen there
        self._wide: set[_Position] = set()  # positions that are `{name}` for every value

    def add(self, key: bytes | str, key_type: str, pttl: int) -> None:
        self.keys += 1
        template = self._generalize(key_template(key))
        summary = self.patterns.get(template)
        if summary is None:
            template = self._admit(template)
            summary = self.patterns.setdefault(template, PatternSummary())
        raw = key.encode("utf-8", "surrogateescape") if isinstance(key, str) else key
        summary.add(key_type, pttl, raw)

    def _generalize(self, template: Template) -> Template:
        if not self._wide:
            return template
        out = list(template)
        n = len(out)
        for i, segment in enumerate(out):
            if _whole_slot(segment) is None and (n, tuple(out[:i])) in self._wide:
                out[i] = (_NAME,)
        return tuple(out)

    def _admit(self, template: Template) -> Template:
        """Count a new template's values; widen positions past the bound. The template the keys
        go to (itself, or wider)."""
        n = len(template)
        for i, segment in enumerate(template):
            if _whole_slot(segment) is not None:
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
            if len(stale[1]) >= at and (len(stale[1]) == at or _whole_slot(stale[1][at]) is None):
                del self._values[stale]
        moved = [
            t
            for t in self.patterns
            if len(t) == n and t[:at] == prefix and _whole_slot(t[at]) is None
        ]
        for old in moved:
            summary = self.patterns.pop(old)
            target = self._admit(self._generalize(old))
            if target in self.patterns:
                self.patterns[target].merge(summary)
            else:
                self.patterns[target] = summary


# --- from the table to patterns -----------------------------------------------------------------


@dataclass(slots=True)
class Entry:
    """One pattern as the export writes it."""

    template: Template
    summary: PatternSummary
    joined: int = 0  # templates folded into this one
    problem: str | None = None  # why it is written commented out (its keys are not placed)

    @property
    def text(self) -> str:
        return render_pattern(self.template)

    @property
    def namespace(self) -> str | None:
        """The file's namespace: the first segment when literal, non-empty and not the whole
        key."""
        first = literal_text(self.template[0])
        return first if first and len(self.template) > 1 else None


def infer(table: PatternTable) -> list[Entry]:
    """The table's patterns, pairwise disjoint (but for the loader's precedence), covering
    every key the table counted; sorted by pattern text."""
    entries = [Entry(t, s) for t, s in table.patterns.items()]
    entries = _joined(entries, _skeleton)
    entries = _structured(entries)
    entries = _disjoint(entries)
    if sum(e.summary.count for e in entries) != table.keys:
        raise RuntimeError("pattern inference lost count of keys")  # a bug, never expected
    return sorted(entries, key=lambda e: e.text)


def _joined(entries: list[Entry], key) -> list[Entry]:
    """Entries with the same key(template) become one, with the join of their templates."""
    groups: dict[object, list[Entry]] = {}
    for e in entries:
        groups.setdefault(key(e.template), []).append(e)
    out = []
    for members in groups.values():
        first = members[0]
        for other in members[1:]:
            first.template = _join(first.template, other.template)
            first.summary.merge(other.summary)
            first.joined += 1 + other.joined
        out.append(first)
    return _merged_duplicates(out)


def _merged_duplicates(entries: list[Entry]) -> list[Entry]:
    by_template: dict[Template, Entry] = {}
    for e in entries:
        if (same := by_template.get(e.template)) is not None:
            same.summary.merge(e.summary)
            same.joined += 1 + e.joined
        else:
            by_template[e.template] = e
    return list(by_template.values())


def _skeleton(template: Template) -> Template:
    """The template with its placeholders' kinds and names left out."""
    return tuple(tuple(_ID if isinstance(p, Slot) else p for p in s) for s in template)


def _structured(entries: list[Entry]) -> list[Entry]:
    """Literal values whose keys below look alike become `{name}` (see the module)."""
    changed = True
    while changed:
        changed = False
        deepest = max((len(e.template) for e in entries), default=0)
        for at in range(1, deepest):
            below: dict[tuple[Template, str], set[tuple[Template, str, bool]]] = {}
            for e in entries:
                t = e.template
                if len(t) > at and (value := literal_text(t[at])) is not None:
                    shape = (t[at + 1 :], e.summary.dominant_type, e.summary.every_key_expires)
                    below.setdefault((t[:at], value), set()).add(shape)
            merge = _alike(below)
            if not merge:
                continue
            for e in entries:
                t = e.template
                if len(t) > at and (t[:at], literal_text(t[at])) in merge:
                    e.template = (*t[:at], (_NAME,), *t[at + 1 :])
            entries = _merged_duplicates(entries)
            changed = True
            break
    return entries


_MANY_ALIKE = 8  # values with one shape below that make a variable (see _alike)
_DIGIT = re.compile(r"[0-9]")


def _alike(below: dict[tuple[Template, str], set[tuple[Template, str, bool]]]) -> set:
    """The (prefix, value) pairs to merge into one `{name}` (never an empty value, which a
    placeholder cannot match):

    - values with two or more shapes below, linked when they share at least two shapes and
      half of all their shapes (BullMQ's queues);
    - `_MANY_ALIKE` or more values that end the key with the same type and expiry
      (`app:lock:billing`, `app:lock:reports`, …: names of instances);
    - as many values with the same one shape below that hold a digit (`session:a8Bx9k:data`:
      short identifiers), but not words (`app:user:{id}`, `app:order:{id}`: kinds of entity,
      which a person keeps apart)."""
    by_prefix: dict[Template, list[str]] = {}
    single: dict[tuple[Template, frozenset], list[str]] = {}
    for (prefix, value), shapes in below.items():
        if not value:
            continue
        if len(shapes) >= 2:
            by_prefix.setdefault(prefix, []).append(value)
            continue
        (suffix, _, _) = next(iter(shapes))
        if not suffix or _DIGIT.search(value):
            single.setdefault((prefix, frozenset(shapes)), []).append(value)
    merge = set()
    for prefix, values in by_prefix.items():
        values.sort()
        for i, a in enumerate(values):
            for b in values[i + 1 :]:
                sa, sb = below[(prefix, a)], below[(prefix, b)]
                common = len(sa & sb)
                if common >= 2 and 2 * common >= len(sa | sb):
                    merge |= {(prefix, a), (prefix, b)}
    for (prefix, _), values in single.items():
        if len(values) >= _MANY_ALIKE:
            merge |= {(prefix, v) for v in values}
    return merge


def _disjoint(entries: list[Entry]) -> list[Entry]:
    """Patterns that can match one key joined, until no two compete. The bigger (more keys)
    never loses literal text to the smaller: `app:session:{id:uuid}` takes in
    `app:session:{token}` (as `app:session:{id}`), but not `app:{id}:config` or `app:{id}:{n}`,
    which are left out, with the reason. Clashes are found in passes, each settling those
    between patterns it has not changed yet."""
    out: list[Entry] = []
    while clashes := _clashes(entries):
        touched: set[int] = set()
        gone: set[int] = set()
        for a, b in clashes:
            if id(a) in touched or id(b) in touched:
                continue  # settled in the next pass, with their new templates
            touched |= {id(a), id(b)}
            gone.add(id(b))
            joined = _join(a.template, b.template)
            kept = all(
                _whole_slot(old) is not None or new == old
                for old, new in zip(a.template, joined, strict=True)
            )
            if not kept:
                keys = f"{a.summary.count} key{'s' if a.summary.count != 1 else ''}"
                b.problem = f"it overlaps '{a.text}' ({keys}), whose literal text it would swallow"
                out.append(b)
                continue
            a.template = joined
            a.summary.merge(b.summary)
            a.joined += 1 + b.joined
        entries = _merged_duplicates([e for e in entries if id(e) not in gone])
    return entries + out


def _order(e: Entry) -> tuple[int, str]:
    return (-e.summary.count, e.text)


def _clashes(entries: list[Entry]) -> list[tuple[Entry, Entry]]:
    """Every two patterns that compete for a key, the bigger first, in a stable order."""
    by_length: dict[int, list[Entry]] = {}
    for e in entries:
        by_length.setdefault(len(e.template), []).append(e)
    found = []
    for members in by_length.values():
        for a, b in _candidates(members, 0):
            if meet(a.template, b.template) is not None:
                found.append((a, b) if _order(a) <= _order(b) else (b, a))
    return sorted(found, key=lambda p: (_order(p[0]), _order(p[1])))


def _candidates(members: list[Entry], at: int):
    """Pairs of templates (of one length) that may meet: those with different literal text at
    some position never do, so members are split by the literal at each position in turn;
    those with a placeholder there are paired with every other member (but at the first
    segment only with each other: a namespace's patterns take precedence)."""
    if len(members) < 2:
        return
    if at == len(members[0].template):
        yield from ((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
        return
    buckets: dict[str, list[Entry]] = {}
    wild: list[Entry] = []
    for e in members:
        text = literal_text(e.template[at])
        (wild if text is None else buckets.setdefault(text, [])).append(e)
    for bucket in buckets.values():
        yield from _candidates(bucket, at + 1)
    if at == 0:
        yield from _candidates(wild, 1)
        return
    for i, w in enumerate(wild):
        yield from ((w, other) for other in wild[i + 1 :])
        yield from ((w, other) for bucket in buckets.values() for other in bucket)


def _candidates_all(members: list[Entry]):
    yield from ((a, b) for i, a in enumerate(members) for b in members[i + 1 :])


def _join(a: Template, b: Template) -> Template:
    """The narrowest template (segment by segment) matching every key of both."""
    return tuple(_join_segment(x, y) for x, y in zip(a, b, strict=True))


_KIND_ORDER = {"int": ("int", "hex", "any"), "hex": ("hex", "any")}  # a kind, then wider ones


def _join_segment(a: Segment, b: Segment) -> Segment:
    if a == b:
        return a
    for wide, narrow in ((a, b), (b, a)):
        if (slot := _whole_slot(wide)) is not None and _within(narrow, slot.kind):
            return wide
    sa, sb = _whole_slot(a), _whole_slot(b)
    if sa is not None and sb is not None:
        kind = next(
            (k for k in _KIND_ORDER.get(sa.kind, ()) if k in _KIND_ORDER.get(sb.kind, ())), "any"
        )
        return (Slot(sa.name if sa.name == sb.name else "id", kind),)
    return (_ID,)  # both are non-empty: they met


def _within(segment: Segment, kind: str) -> bool:
    """Whether every text the segment matches is of `kind`."""
    if not segment:
        return False
    if kind == "any":
        return True
    text = literal_text(segment)
    if text is not None:
        return re.fullmatch(KINDS[kind], text) is not None
    slot = _whole_slot(segment)
    return slot is not None and kind in _KIND_ORDER.get(slot.kind, (slot.kind, "any"))


__all__ = [
    "DEFAULT_MAX_LITERALS",
    "Entry",
    "PatternSummary",
    "PatternTable",
    "Template",
    "infer",
    "key_template",
    "looks_like_id",
    "render_pattern",
    "round_ttl",
    "segment_template",
]
