"""Which pattern a plan would count a key for, compared with the one export counted it for.

Owns: `without_thieves`, which leaves out (writes commented out, with the reason) every live
pattern that a plan run on the exported files would count keys of another entry for — keys of
a left-out pattern it matches, or keys it takes by the loader's precedence (a namespace's
pattern first, then one lying within another) — or lets it take a left-out pattern in whole.

Must not: join or widen patterns (fold.py), or drop a key: left out, its keys are still counted
(as not placed).
"""

from __future__ import annotations

from reconciler.export.redis.entry import Entry, Source, order
from reconciler.export.redis.shapes import NAME, segment_template
from reconciler.model.keypattern import literal_text, pattern_regex, segments_meet, within

__all__ = ["without_thieves"]


def without_thieves(entries: list[Entry]) -> None:
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
    for victim in sorted(entries, key=order):
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
