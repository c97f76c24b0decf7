"""What linting finds, and how many findings of one rule are said: the values lint.py makes,
the command line shows and project/cache.py keeps with the files they were found in.

Owns: Finding, Summary and digest.
Must not: know the rules (lint.py, lint_rules.py); it imports no model module beyond Address,
so that a plan shown from the cache (which unpickles the findings) loads none.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str  # "error" | "warning"
    message: str
    address: Address
    source: str | None


# A rule with more findings than LISTED is summarized: its count and its FIRST findings.
LISTED = 10
FIRST = 5


@dataclass(frozen=True, slots=True)
class Summary:
    """Many findings of one rule, said once: how many, and the first few to look at."""

    rule: str
    severity: str
    count: int
    first: tuple[Finding, ...]


def digest(findings: list[Finding], *, every: bool = False) -> list[Finding | Summary]:
    """`findings` as a person reads them: a rule found more than LISTED times becomes one
    Summary, where its first finding was; `every` lists them all."""
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    out: list[Finding | Summary] = []
    for f in findings:
        mine = by_rule[f.rule]
        if every or len(mine) <= LISTED:
            out.append(f)
        elif f is mine[0]:
            out.append(Summary(f.rule, f.severity, len(mine), tuple(mine[:FIRST])))
    return out
