"""Reading a Redis key as a template for `export --redis`: literal text and placeholders.

Owns: the shapes that make a segment, or a run inside one, a placeholder of a kind
(reconciler/model/keypattern.py has the language), `key_template`, and `render_pattern`, which
names a template's placeholders apart.

Must not: count keys or decide patterns (infer.py, fold.py).

**A key as a template.** The key is split on ':' and each segment read by its shape:

- a whole segment that is a UUID, a date (YYYY-MM-DD), digits, or hexadecimal of 8 or more
  characters becomes a placeholder of that kind (`{id:uuid}`, `{date:date}`, `{id:int}`,
  `{id:hex}`); one that is an e-mail address, an IPv4 address, a host name (two or more
  lowercase labels, with a digit or hyphen and no date: `worker-3.internal`; or a Kubernetes
  pod's: `sidekiq-7d9f8b6c4-8xrlg`) or an opaque token (16 or more characters with a long run
  mixing letters and digits, or 20 or more with both cases and digits, `x-s3MTfyp-8-NppqY…`)
  becomes `{email}`, `{ip}`, `{host}` or `{token}`;
- a segment that cannot be written literally (not UTF-8, or holding a brace, a glob or a
  control character) or should not be (a bidirectional or zero-width mark, which would make
  the file read otherwise than it matches), or longer than 200 characters, becomes `{id}`;
- otherwise runs inside the segment, between characters that are not letters or digits, are
  read the same way: `celery-task-meta-<uuid>` → `celery-task-meta-{id:uuid}`,
  `user_profile_42` → `user_profile_{id:int}`; what is left is literal text.
"""

from __future__ import annotations

import re
from collections import Counter

from reconciler.model.keypattern import Segment, Slot, render

MAX_LITERAL_LENGTH = 200  # a longer segment is data, not a name: a placeholder

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
# A Kubernetes pod of a Deployment: <name>-<replica set hash>-<5 characters>.
_POD = re.compile(r"[a-z][a-z0-9-]*-[0-9a-f]{8,10}-[0-9a-z]{5}\Z")
_DATE_RUN = re.compile(_DATE)
_OPAQUE = re.compile(r"[A-Za-z0-9_\-+/=]{16,}\Z")
_MIXED_RUN = re.compile(_TOKEN)
# base64url and the like: 20 or more characters with upper and lower case letters and digits.
_ALL_CASES = re.compile(r"(?=.{20})(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])")
# Braces are placeholder syntax, glob characters and control characters are refused in patterns:
# a segment with any of them cannot be written literally.
_UNWRITABLE = re.compile(r"[{}*?\[\]\\\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

ID = Slot("id")
NAME = Slot("name")
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
        return (ID,)
    for kind, regex in _WHOLE.items():
        if regex.match(text):
            return (Slot(_NAMES[kind], kind),)
    if _EMAIL.match(text):
        return (Slot("email"),)
    if _IPV4.match(text):
        return (Slot("ip"),)
    mixed = _MIXED_RUN.search(text)
    if _POD.match(text) or (_HOST.match(text) and not mixed and not _DATE_RUN.search(text)):
        return (Slot("host"),)
    if _OPAQUE.match(text) and (mixed or _ALL_CASES.match(text)):
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
            out.append((ID,))  # binary: not writable as YAML text
            continue
        out.append(segment_template(text))
    return tuple(out)


def whole_slot(segment: Segment) -> Slot | None:
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


__all__ = [
    "ID",
    "MAX_LITERAL_LENGTH",
    "NAME",
    "Template",
    "key_template",
    "looks_like_id",
    "render_pattern",
    "segment_template",
    "whole_slot",
]
