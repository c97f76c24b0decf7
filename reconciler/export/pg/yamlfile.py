"""How export writes its YAML files: file names, the files themselves and `drop_none`.

Owns: one file name per object (safe characters, unique case-insensitively within a folder),
`Files` (writes each document's text, yamltext.py's, making each folder once) and `drop_none`.
`Block` (a multi-line text written as a literal block) and `DUMPER` (the PyYAML dumper whose
text the files hold) are yamltext.py's, named here too.
Must not: decide what a document holds (tables.py, objects.py, grants.py, aggregates.py,
rules.py do) or where it goes (write.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from reconciler.export.pg.yamltext import DUMPER, Block, YamlText

__all__ = ["DUMPER", "Block", "Files", "drop_none", "file_name"]

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


class Files:
    """Writes one export's documents as YAML files, and remembers them in order."""

    def __init__(self) -> None:
        self.yaml = YamlText()
        self.written: list[Path] = []
        self._folders: set[Path] = set()

    def dump(self, path: Path, doc: dict[str, Any]) -> None:
        text = self.yaml.text(doc)
        folder = path.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        path.write_text(text, encoding="utf-8")
        self.written.append(path)
