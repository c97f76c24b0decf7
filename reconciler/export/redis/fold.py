"""From the pattern table to the patterns `export --redis` writes: disjoint, every key in one.

Owns: `infer` (the table → `Entry`s, entry.py), the structural merge of literal values that
stand for one variable, and joining patterns that compete for a key.

Must not: read keys (shapes.py), count them (infer.py), decide which patterns a plan would count
another's keys for (claims.py), or write files (write.py).

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

from reconciler.export.redis.claims import without_thieves
from reconciler.export.redis.entry import Entry, Source, order
from reconciler.export.redis.infer import PatternTable
from reconciler.export.redis.shapes import (
    ID,
    NAME,
    Template,
    whole_slot,
)
from reconciler.model.keypattern import (
    KINDS,
    Segment,
    Slot,
    literal_text,
    meet,
    within,
)


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
    without_thieves(entries)
    if sum(e.summary.count for e in entries) != table.keys:
        raise RuntimeError("pattern inference lost count of keys")  # a bug, never expected
    return sorted(entries, key=lambda e: e.text)


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


def _clashes(entries: list[Entry]) -> list[tuple[Entry, Entry]]:
    """Every two patterns that compete for a key, the bigger first, in a stable order."""
    by_length: dict[int, list[Entry]] = {}
    for e in entries:
        by_length.setdefault(len(e.template), []).append(e)
    found = []
    for members in by_length.values():
        for a, b in _candidates(members, 0):
            if meet(a.template, b.template) is not None and not _apart(a, b):
                found.append((a, b) if order(a) <= order(b) else (b, a))
    return sorted(found, key=lambda p: (order(p[0]), order(p[1])))


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
