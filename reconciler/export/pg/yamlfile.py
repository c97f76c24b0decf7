"""How export writes its YAML files: file names, the dumper and literal blocks.

Owns: one file name per object (safe characters, unique case-insensitively within a folder),
the YAML emitter (libyaml's when PyYAML has it; both write the same text), `Block` (a
multi-line text written as a literal block, as the server prints it) and `drop_none`.
Must not: decide what a document holds (tables.py, objects.py, grants.py, aggregates.py,
rules.py do) or where it goes (write.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != () and v != []}


def file_name(schema: str, name: str, taken: set[str]) -> str:
    base = name if schema == "public" else f"{schema}.{name}"
    stem = _SAFE.sub("_", base).strip("._") or "object"
    candidate, n = stem, 2
    while candidate.lower() in taken:  # case-insensitive file systems, sanitized collisions
        candidate, n = f"{stem}_{n}", n + 1
    taken.add(candidate.lower())
    return f"{candidate}.yaml"


# libyaml's emitter when PyYAML was built with it: the pure-Python one took most of an
# export's time (6 of 8 s at 1,000 tables under a profiler). Both write the same text.
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(doc, Dumper=DUMPER, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")


class Block(str):
    """A multi-line text written as a YAML literal block (`|`), as the server prints it."""


def _block(dumper: yaml.SafeDumper, value: Block) -> yaml.ScalarNode:
    # A literal block keeps every line as it is; PyYAML falls back to a quoted scalar by
    # itself where a block cannot hold the text exactly (trailing spaces, tabs).
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style=style)


yaml.SafeDumper.add_representer(Block, _block)
DUMPER.add_representer(Block, _block)
