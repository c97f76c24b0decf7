"""Values in words, as the YAML writes them: true/false, `(none)`, lists in brackets.

Owns: `yaml_value`. Must not: know any command's output. (Counts in words: model/words.py.)
"""

from __future__ import annotations


def yaml_value(v: object) -> str:
    """A value as the YAML writes it: true/false, `(none)` for nothing, lists in brackets."""
    if v is None:
        return "(none)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v == "":
        return '""'  # an empty text, visible (`value: "" → Ex`, not `value:  → Ex`)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(yaml_value(x) for x in v) + "]"
    if isinstance(v, dict):  # a check, a key: its set attributes, as the YAML writes them
        return "{" + ", ".join(f"{k}: {yaml_value(x)}" for k, x in v.items() if x is not None) + "}"
    return str(v)
