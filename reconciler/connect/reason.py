"""The reason a driver or client program gives for a failure, as one line a person can act on.

Owns: reducing libpq's multi-line messages (the cause line, then tab-indented hints; one cause
line per address tried) to their causes, joined on one line.
Must not: hide secrets (callers scrub the result with `scrub`), or talk to any server.
"""

from __future__ import annotations

import re

_PREFIXES = ("connection failed: ",)


def libpq_reason(text: str, fallback: str = "failed") -> str:
    """The cause lines of `text` (not the indented hints), whitespace collapsed, joined with
    "; "; `fallback` when there is none. `connection to server at "127.0.0.1", port 1 failed:
    Connection refused\\n\\tIs the server running…` gives its first line, host and port kept."""
    causes: list[str] = []
    for line in text.strip().splitlines():
        if not line.strip() or line[:1].isspace():  # a hint or a continuation: not the cause
            continue
        line = re.sub(r"\s+", " ", line).strip()
        for prefix in _PREFIXES:
            line = line.removeprefix(prefix)
        if line not in causes:
            causes.append(line)
    return "; ".join(causes).rstrip(".") or fallback
