"""Counts in words: `1 change`, `2 changes`, `1,204 keys`.

Owns: `counted(n, noun, plural=None)`, the one way output and error sentences say how many of
something, in every layer.
Must not: know any command's output; it is only the noun's number.
"""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and its noun, singular for exactly one (`1 key`, `0 keys`, `1,204 keys`); `plural`
    when the noun does not take an s (`1 index`, `2 indexes`)."""
    many = plural if plural is not None else noun + "s"
    return f"{n:,} {noun if n == 1 else many}"
