"""The patterns export writes, as fold.py and claims.py work on them.

Owns: `Entry` (one pattern to write: its template, what it covers, why it is left out) and
`Source` (one template of the pattern table that an entry holds).

Must not: decide how entries are joined (fold.py) or which are left out (claims.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.export.redis.infer import PatternSummary
from reconciler.export.redis.shapes import Template, render_pattern
from reconciler.model.keypattern import literal_text

__all__ = ["Entry", "Source", "order"]


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


def order(e: Entry) -> tuple[int, str]:
    """The order entries are considered in: the most keys first, then by pattern text."""
    return (-e.summary.count, e.text)
