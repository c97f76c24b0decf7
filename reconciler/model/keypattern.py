"""The key-pattern language: parsing a pattern, the regex of its keys, and whether two meet.

A pattern is the key with its variable parts written as placeholders. Segments are separated by
':' (a segment may be empty, `rack::attack:{n:int}`; a pattern may be one segment, `queues`).
A placeholder stands for a non-empty run of text without ':' and is written `{name}` (any such
text) or `{name:kind}`, which narrows it:

    int   [0-9]+              hex   [0-9a-fA-F]+
    uuid  8-4-4-4-12 hex      date  YYYY-MM-DD

A placeholder may be a whole segment (`app:session:{id:int}`) or part of one
(`celery-task-meta-{id:uuid}`, `user_profile_{n:int}`); two placeholders may not touch (which
text each takes would be a guess). Kinds keep patterns apart that an untyped placeholder would
make overlap: `bull:{queue}:{job:int}` and `bull:{queue}:wait` match different keys.

Whether two patterns can match one key (`meet`) is decided segment by segment; two segments
that both have placeholders are compared as automata, which also yields an example key.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from dataclasses import dataclass
from functools import lru_cache

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?\}")
_GLOB = re.compile(r"[*?\[\]\\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_HEXC = "0-9a-fA-F"
KINDS: dict[str, str] = {
    "any": "[^:]+",
    "int": "[0-9]+",
    "hex": f"[{_HEXC}]+",
    "uuid": "-".join(f"[{_HEXC}]{{{n}}}" for n in (8, 4, 4, 4, 12)),
    "date": "[0-9]{4}-[0-9]{2}-[0-9]{2}",
}
WRITTEN_KINDS = tuple(k for k in KINDS if k != "any")  # `{name}` is written without a kind


@dataclass(frozen=True, slots=True)
class Slot:
    """A placeholder: its name and kind (one of KINDS)."""

    name: str
    kind: str = "any"

    @property
    def text(self) -> str:
        return f"{{{self.name}}}" if self.kind == "any" else f"{{{self.name}:{self.kind}}}"


Part = str | Slot  # literal text (never empty) or a placeholder
Segment = tuple[Part, ...]  # () is an empty segment


class PatternError(ValueError):
    """A pattern that cannot be parsed; the message names the pattern and what is wrong."""


def literal_text(segment: Segment) -> str | None:
    """The segment's text when it has no placeholder, else None."""
    if all(isinstance(p, str) for p in segment):
        return "".join(segment)  # type: ignore[arg-type]
    return None


@lru_cache(maxsize=8192)
def parse(pattern: str) -> tuple[Segment, ...]:
    """The segments of a pattern, or PatternError saying what is wrong with it."""
    if not pattern:
        raise PatternError("a key pattern must not be empty")
    glob = _GLOB.search(pattern)
    if glob:
        raise PatternError(
            f"key pattern '{pattern}' contains the glob character '{glob.group()}'; "
            "write a {placeholder} for a variable part"
        )
    if _CONTROL.search(pattern):
        raise PatternError(f"key pattern {pattern!r} contains a control character")
    names: set[str] = set()
    return tuple(_segment(part, pattern, names) for part in _split(pattern))


def _split(pattern: str) -> list[str]:
    """The pattern split on the ':' that are not inside a placeholder (`{id:int}`)."""
    inside = [range(m.start(), m.end()) for m in PLACEHOLDER.finditer(pattern)]
    out, start = [], 0
    for i, c in enumerate(pattern):
        if c == ":" and not any(i in r for r in inside):
            out.append(pattern[start:i])
            start = i + 1
    out.append(pattern[start:])
    return out


def _segment(text: str, pattern: str, names: set[str]) -> Segment:
    parts: list[Part] = []
    pos = 0
    for m in PLACEHOLDER.finditer(text):
        if m.start() > pos:
            parts.append(text[pos : m.start()])
        elif parts and isinstance(parts[-1], Slot):
            raise PatternError(
                f"placeholders '{parts[-1].text}' and '{m.group()}' touch in key pattern "
                f"'{pattern}'; put literal text between them"
            )
        name, kind = m.group(1), m.group(2) or "any"
        if m.group(2) is not None and kind not in WRITTEN_KINDS:
            hint = difflib.get_close_matches(kind, WRITTEN_KINDS, n=1, cutoff=0.5)
            suffix = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise PatternError(
                f"unknown placeholder kind '{kind}' in key pattern '{pattern}'{suffix}; "
                f"one of: {', '.join(WRITTEN_KINDS)}"
            )
        if name in names:
            raise PatternError(f"placeholder '{{{name}}}' is used twice in key pattern '{pattern}'")
        names.add(name)
        parts.append(Slot(name, kind))
        pos = m.end()
    rest = text[pos:]
    if "{" in rest or "}" in rest:
        raise PatternError(
            f"'{text}' in key pattern '{pattern}': a placeholder is '{{name}}' or "
            f"'{{name:kind}}' (name: letters, digits and _; kind: {', '.join(WRITTEN_KINDS)})"
        )
    if rest:
        parts.append(rest)
    return tuple(parts)


def render(segments: tuple[Segment, ...]) -> str:
    return ":".join("".join(p if isinstance(p, str) else p.text for p in s) for s in segments)


def _segment_regex(segment: Segment) -> str:
    return "".join(re.escape(p) if isinstance(p, str) else KINDS[p.kind] for p in segment)


@lru_cache(maxsize=4096)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """`app:session:{id}` → a regex matching exactly the keys of that pattern (no groups)."""
    return re.compile(":".join(_segment_regex(s) for s in parse(pattern)) + r"\Z", re.DOTALL)


def literal_prefix(pattern: str) -> str:
    """The literal text before the first placeholder (keys are matched by prefix first)."""
    m = PLACEHOLDER.search(pattern)
    return pattern[: m.start()] if m else pattern


def first_literal(pattern: str) -> str | None:
    """The first segment when it is written literally (a namespace), else None."""
    return literal_text(parse(pattern)[0])


# --- do two patterns meet ---------------------------------------------------------------------

# A character set: (True, chars) is those characters, (False, chars) every character but those.
_CharSet = tuple[bool, frozenset[str]]
_NOT_COLON: _CharSet = (False, frozenset(":"))
_KIND_STEPS: dict[str, tuple[tuple[_CharSet, bool], ...]] = {}


def _chars(text: str) -> _CharSet:
    return (True, frozenset(text))


_DIGITS = _chars("0123456789")
_HEX = _chars("0123456789abcdefABCDEF")
_KIND_STEPS["any"] = ((_NOT_COLON, True),)
_KIND_STEPS["int"] = ((_DIGITS, True),)
_KIND_STEPS["hex"] = ((_HEX, True),)
_KIND_STEPS["uuid"] = tuple(
    step
    for i, n in enumerate((8, 4, 4, 4, 12))
    for step in ([(_chars("-"), False)] if i else []) + [(_HEX, False)] * n
)
_KIND_STEPS["date"] = tuple(
    step
    for i, n in enumerate((4, 2, 2))
    for step in ([(_chars("-"), False)] if i else []) + [(_DIGITS, False)] * n
)


def _steps(segment: Segment) -> tuple[tuple[_CharSet, bool], ...]:
    """The segment as steps of one character each; a looping step may repeat."""
    out: list[tuple[_CharSet, bool]] = []
    for p in segment:
        if isinstance(p, str):
            out.extend((_chars(c), False) for c in p)
        else:
            out.extend(_KIND_STEPS[p.kind])
    return tuple(out)


def _common(a: _CharSet, b: _CharSet) -> str | None:
    """A character in both sets, or None."""
    (a_in, a_chars), (b_in, b_chars) = a, b
    if a_in and b_in:
        both = a_chars & b_chars
    elif a_in:
        both = a_chars - b_chars
    elif b_in:
        both = b_chars - a_chars
    else:
        return next(c for c in "x0yzXYZ_-1" if c not in a_chars and c not in b_chars)
    return min(both) if both else None


def _moves(steps: tuple[tuple[_CharSet, bool], ...], i: int) -> list[tuple[_CharSet, int]]:
    out = []
    if i < len(steps):
        out.append((steps[i][0], i + 1))
    if i > 0 and steps[i - 1][1]:
        out.append((steps[i - 1][0], i))  # the step just taken repeats
    return out


@lru_cache(maxsize=8192)
def segments_meet(a: Segment, b: Segment) -> str | None:
    """Text both segments match (the shortest), or None when they match nothing in common."""
    ta, tb = literal_text(a), literal_text(b)
    if ta is not None and tb is not None:
        return ta if ta == tb else None
    if ta is not None or tb is not None:
        text, other = (ta, b) if ta is not None else (tb, a)
        return text if re.fullmatch(_segment_regex(other), text, re.DOTALL) else None
    sa, sb = _steps(a), _steps(b)
    start = (0, 0)
    came: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if state == (len(sa), len(sb)):
            out = []
            while (link := came[state]) is not None:
                state, char = link
                out.append(char)
            return "".join(reversed(out))
        for set_a, next_a in _moves(sa, state[0]):
            for set_b, next_b in _moves(sb, state[1]):
                char = _common(set_a, set_b)
                if char is not None and (nxt := (next_a, next_b)) not in came:
                    came[nxt] = (state, char)
                    queue.append(nxt)
    return None


_WIDER = {"int": ("int", "hex", "any"), "hex": ("hex", "any")}  # a kind, then kinds holding it


def _segment_within(narrow: Segment, wide: Segment) -> bool:
    """Whether every text `narrow` matches, `wide` matches (decided for the cases that make a
    pattern more specific: literal text, a narrower kind, anything under `{name}`)."""
    if _kinds(narrow) == _kinds(wide):
        return True  # the same but for the placeholders' names
    text = literal_text(narrow)
    if text is not None:
        return re.fullmatch(_segment_regex(wide), text, re.DOTALL) is not None
    if len(wide) != 1 or not isinstance(wide[0], Slot) or not narrow:
        return False
    if wide[0].kind == "any":
        return True
    return (
        len(narrow) == 1
        and isinstance(narrow[0], Slot)
        and wide[0].kind in _WIDER.get(narrow[0].kind, (narrow[0].kind,))
    )


def _kinds(segment: Segment) -> tuple[str, ...]:
    return tuple(p if isinstance(p, str) else "{" + p.kind for p in segment)


def within(narrow: tuple[Segment, ...], wide: tuple[Segment, ...]) -> bool:
    """Whether every key `narrow` matches, `wide` matches too (same length, segment by
    segment; conservative: False when undecided)."""
    return len(narrow) == len(wide) and all(
        _segment_within(n, w) for n, w in zip(narrow, wide, strict=True)
    )


_WEIGHT = {"any": 0, "hex": 1, "int": 2, "uuid": 2, "date": 2}


def specificity(segments: tuple[Segment, ...]) -> int:
    """A rank that is higher for a pattern strictly `within` another: literal text 3, text
    with a placeholder inside 2, a whole placeholder by its kind (int, uuid, date 2, hex 1,
    any text 0). A plan tries the most specific pattern first."""
    total = 0
    for segment in segments:
        if literal_text(segment) is not None:
            total += 3
        elif len(segment) == 1 and isinstance(segment[0], Slot):
            total += _WEIGHT[segment[0].kind]
        else:
            total += 2
    return total


def meet(a: tuple[Segment, ...], b: tuple[Segment, ...]) -> str | None:
    """A key both patterns match, or None when no key can match both."""
    if len(a) != len(b):
        return None
    out = []
    for sa, sb in zip(a, b, strict=True):
        text = segments_meet(sa, sb)
        if text is None:
            return None
        out.append(text)
    return ":".join(out)


__all__ = [
    "KINDS",
    "PLACEHOLDER",
    "WRITTEN_KINDS",
    "Part",
    "PatternError",
    "Segment",
    "Slot",
    "first_literal",
    "literal_prefix",
    "literal_text",
    "meet",
    "parse",
    "pattern_regex",
    "render",
    "segments_meet",
    "specificity",
    "within",
]
