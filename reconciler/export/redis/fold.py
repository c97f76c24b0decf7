"""From the pattern table to the patterns `export --redis` writes: disjoint, every key in one.

Owns: `infer` (the table → `Entry`s), the structural merge of literal values that stand for
one variable, and joining patterns that compete for a key.

Must not: read keys (shapes.py), count them (infer.py) or write
files (write.py).

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
never dropped. A pattern lying strictly within another, whose keys differ in type or expiry,
stays apart (the loader lets it: a plan tries it first). A pattern whose keys have several
types says so.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field

from reconciler.export.redis.infer import PatternSummary, PatternTable
from reconciler.export.redis.shapes import (
    ID,
    NAME,
    Template,
    render_pattern,
    segment_template,
    whole_slot,
)
from reconciler.model.keypattern import (
    KINDS,
    Segment,
    Slot,
    literal_text,
    meet,
    pattern_regex,
    segments_meet,
    within,
)


@dataclass(frozen=True, slots=True)
class Source:
    """One template of the table: its keys' count, and the keys themselves when that is all of
    them (MAX_EXAMPLES or fewer)."""

    template: Template
    count: int
    examples: tuple[bytes, ...]

    @property
    def keys(self) -> tuple[str, ...] | None:
        if self.count > len(self.examples):
            return None
        return tuple(k.decode("utf-8", "surrogateescape") for k in self.examples)


@dataclass(slots=True)
class Entry:
    """One pattern as the export writes it."""

    template: Template
    summary: PatternSummary
    joined: int = 0  # templates folded into this one
    problem: str | None = None  # why it is written commented out (its keys are not placed)
    sources: list[Source] = field(default_factory=list)  # the table's templates it holds

    def absorb(self, other: Entry) -> None:
        """Take in another entry's keys (its template is joined by the caller)."""
        self.summary.merge(other.summary)
        self.joined += 1 + other.joined
        self.sources.extend(other.sources)

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
    entries = [
        Entry(t, copy.deepcopy(s), sources=[Source(t, s.count, tuple(s.examples))])
        for t, s in table.patterns.items()
    ]
    entries = _joined(entries, _skeleton)
    entries = _structured(entries)
    entries = _disjoint(entries)
    for e in entries:
        if e.template == ((),):
            e.problem = "the empty key has no pattern (a pattern must not be empty)"
    _without_thieves(entries)
    if sum(e.summary.count for e in entries) != table.keys:
        raise RuntimeError("pattern inference lost count of keys")  # a bug, never expected
    return sorted(entries, key=lambda e: e.text)


def _without_thieves(entries: list[Entry]) -> None:
    """Leave out every live pattern that a plan would count keys of another entry for: keys
    of a left-out pattern that a live one matches (`x:{ip}:k` left out, `x:{a:int}.{b:hex}:k`
    matching `x:10.0.0.1:k`), or keys that a pattern tried first (a namespace's, or one lying
    within the other) takes. A live pattern covering a left-out one whole takes its keys in
    instead. Repeated until no live pattern takes keys it did not count: the plan under the
    export then counts each key where the export did."""
    while True:
        live: dict[tuple[int, str | None], list[Entry]] = {}
        for e in entries:
            if e.problem is None:
                live.setdefault((len(e.template), literal_text(e.template[0])), []).append(e)
        found = _thief(entries, live)
        if found is None:
            return
        thief, victim = found
        if victim.problem is not None and within(victim.template, thief.template):
            # It covers the keys left out: it counts them (its policy then fits them too).
            thief.absorb(victim)
            entries.remove(victim)
            continue
        thief.problem = f"it would also match keys counted for '{victim.text}'"


def _thief(
    entries: list[Entry], live: dict[tuple[int, str | None], list[Entry]]
) -> tuple[Entry, Entry] | None:
    """A live pattern a plan would count keys of another entry for, and that entry; the live
    patterns are grouped by (length, literal first segment or None)."""
    for victim in sorted(entries, key=_order):
        left_out = victim.problem is not None
        first = literal_text(victim.template[0])
        for source in victim.sources:
            n = len(source.template)
            if left_out:  # any live pattern may take its keys
                groups = [g for (length, _), g in live.items() if length == n]
            elif first is not None:  # only a pattern of its namespace lying within it
                groups = [live.get((n, first), [])]
            else:  # every namespace's pattern, and one starting with a placeholder within it
                groups = [g for (length, _), g in live.items() if length == n]
            for group in groups:
                for other in group:
                    if other is victim or not (left_out or _first(other, victim)):
                        continue
                    if _takes(other, source):
                        return other, victim
    return None


def _first(one: Entry, other: Entry) -> bool:
    """Whether a plan tries `one` before `other` for a key both could match: a namespace's
    pattern before one starting with a placeholder; within either, a pattern lying strictly
    within the other."""
    a, b = one.template, other.template
    a_loose, b_loose = literal_text(a[0]) is None, literal_text(b[0]) is None
    if a_loose != b_loose:
        return b_loose
    for x, y in zip(a, b, strict=True):  # cheap first: a literal of `other` is one of `one`
        if (text := literal_text(y)) is not None and literal_text(x) != text:
            return False
    return within(a, b) and not within(b, a)


def _takes(pattern: Entry, source: Source) -> bool:
    """Whether a plan could count a key of `source` for `pattern`: one of its keys matches, or
    (when there are too many to hold) a key could. Reading a key is deterministic, so where
    the pattern has literal text a source key can only have that text if it reads as the
    source's template does there (`bull` never reads as `{host}`), but for a position the
    cardinality rule widened (`{name}`)."""
    keys = source.keys
    if keys is not None:
        regex = pattern_regex(pattern.text)
        return any(regex.match(k) for k in keys)
    if len(pattern.template) != len(source.template):
        return False
    for want, have in zip(pattern.template, source.template, strict=True):
        text = literal_text(want)
        if text is None:
            if segments_meet(want, have) is None:
                return False
        elif have == (NAME,):
            if not text:
                return False  # a placeholder never stands for an empty segment
        elif segment_template(text) != have:
            return False  # a key with this text there reads as another template
    return True


def _joined(entries: list[Entry], key: Callable[[Template], Hashable]) -> list[Entry]:
    """Entries with the same key(template) become one, with the join of their templates."""
    groups: dict[Hashable, list[Entry]] = {}
    for e in entries:
        groups.setdefault(key(e.template), []).append(e)
    out = []
    for members in groups.values():
        first = members[0]
        for other in members[1:]:
            first.template = _join(first.template, other.template)
            first.absorb(other)
        out.append(first)
    return _merged_duplicates(out)


def _merged_duplicates(entries: list[Entry]) -> list[Entry]:
    by_template: dict[Template, Entry] = {}
    for e in entries:
        if (same := by_template.get(e.template)) is not None:
            same.absorb(e)
        else:
            by_template[e.template] = e
    return list(by_template.values())


def _skeleton(template: Template) -> Template:
    """The template with its placeholders' kinds and names left out."""
    return tuple(tuple(ID if isinstance(p, Slot) else p for p in s) for s in template)


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
                    e.template = (*t[:at], (NAME,), *t[at + 1 :])
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
            if not _keeps_literals(a.template, b.template):
                keys = f"{a.summary.count} key{'s' if a.summary.count != 1 else ''}"
                b.problem = f"it overlaps '{a.text}' ({keys}), whose literal text it would swallow"
                out.append(b)
                continue
            a.template = _join(a.template, b.template)
            a.absorb(b)
        entries = _merged_duplicates([e for e in entries if id(e) not in gone])
    return entries + out


def _apart(a: Entry, b: Entry) -> bool:
    """Whether two overlapping patterns stay apart: one lies strictly within the other (so it
    takes the keys both match, the loader's precedence) and their keys differ in type or
    expiry (`sess:admin` with no TTL within `sess:{token}`, whose keys all expire)."""
    if within(a.template, b.template) == within(b.template, a.template):
        return False
    sa, sb = a.summary, b.summary
    return (sa.dominant_type, sa.every_key_expires) != (sb.dominant_type, sb.every_key_expires)


def _keeps_literals(wide: Template, other: Template) -> bool:
    """Whether joining `other` into `wide` leaves `wide`'s literal text as it is (only its
    whole placeholders may widen)."""
    joined = _join(wide, other)
    return all(
        whole_slot(old) is not None or new == old for old, new in zip(wide, joined, strict=True)
    )


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
            if meet(a.template, b.template) is not None and not _apart(a, b):
                found.append((a, b) if _order(a) <= _order(b) else (b, a))
    return sorted(found, key=lambda p: (_order(p[0]), _order(p[1])))


def _candidates(members: list[Entry], at: int) -> Iterator[tuple[Entry, Entry]]:
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


def _join(a: Template, b: Template) -> Template:
    """The narrowest template (segment by segment) matching every key of both."""
    return tuple(_join_segment(x, y) for x, y in zip(a, b, strict=True))


_KIND_ORDER = {"int": ("int", "hex", "any"), "hex": ("hex", "any")}  # a kind, then wider ones


def _join_segment(a: Segment, b: Segment) -> Segment:
    if a == b:
        return a
    for wide, narrow in ((a, b), (b, a)):
        if (slot := whole_slot(wide)) is not None and _within(narrow, slot.kind):
            return wide
    sa, sb = whole_slot(a), whole_slot(b)
    if sa is not None and sb is not None:
        wider = _KIND_ORDER.get(sb.kind, (sb.kind, "any"))
        kind = next(k for k in _KIND_ORDER.get(sa.kind, (sa.kind, "any")) if k in wider)
        return (Slot(sa.name if sa.name == sb.name else "id", kind),)
    return (ID,)  # both are non-empty: they met


def _within(segment: Segment, kind: str) -> bool:
    """Whether every text the segment matches is of `kind`."""
    if not segment:
        return False
    if kind == "any":
        return True
    text = literal_text(segment)
    if text is not None:
        return re.fullmatch(KINDS[kind], text) is not None
    slot = whole_slot(segment)
    return slot is not None and kind in _KIND_ORDER.get(slot.kind, (slot.kind, "any"))


__all__ = ["Entry", "infer"]
