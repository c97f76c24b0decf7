"""Counts in words: `1 change`, `2 changes`, `1,204 keys`.

Owns: `counted(n, noun, plural=None)`, the one way output says how many of something.

Must not: know any command's output; it is only the noun's number.
"""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and its noun, singular for exactly one (`1 key`, `0 keys`, `1,204 keys`); `plural`
    when the noun does not take an s (`1 index`, `2 indexes`)."""
    many = plural if plural is not None else noun + "s"
    return f"{n:,} {noun if n == 1 else many}"


def yaml_value(v: object) -> str:
    """A value as the YAML writes it: true/false, `(none)` for nothing, lists in brackets."""
    if v is None:
        return "(none)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(yaml_value(x) for x in v) + "]"
    if isinstance(v, dict):  # a check, a key: its set attributes, as the YAML writes them
        return "{" + ", ".join(f"{k}: {yaml_value(x)}" for k, x in v.items() if x is not None) + "}"
    return str(v)
