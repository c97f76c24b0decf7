"""The values project/yamlload.py reads YAML into, and what its two loops share: BoolText, the
line marks of a file (Marks, Where), the result of a read (Loaded) and its one-sentence error.

Owns: those types and the tags and bounds both loops apply.
Must not: read YAML (yamlload.py, yamlplain.py do).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

MAX_ALIAS_NODES = 10_000  # values repeated through aliases, per document
MAX_DEPTH = 64  # nested lists/mappings; real files need about 6

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_TEXT_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "timestamp", "binary")
)
_TRUE = frozenset({"yes", "true", "on"})

Path = tuple[str | int, ...]


class BoolText(str):
    """A YAML boolean scalar, still spelled as written."""

    __slots__ = ()

    @property
    def value(self) -> bool:
        return self.lower() in _TRUE


class YamlError(Exception):
    """The file cannot be read as YAML at all: one line, one sentence."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(slots=True)
class Marks:
    """1-based line numbers by value path (mapping keys → str, list indexes → int)."""

    nodes: dict[Path, int] = field(default_factory=dict)
    keys: dict[Path, int] = field(default_factory=dict)  # path of a value → line of its key

    def line(self, path: Path) -> int:
        """Line of the value at `path`, or of the nearest enclosing value that exists."""
        if type(path) is tuple and (found := self.nodes.get(path)) is not None:
            return found  # the common case: the value is there
        path = tuple(path)
        while path and path not in self.nodes:
            path = path[:-1]
        return self.nodes.get(path, 1)

    def key_line(self, path: Path) -> int:
        """Line of the key that introduces `path` (falls back to the value's line)."""
        return self.keys.get(tuple(path)) or self.line(path)


class Where(NamedTuple):
    """A position in one file: its display path, its marks and a key path inside it. (A
    tuple: loading a thousand tables makes hundreds of thousands, one per key checked.)"""

    display: str
    marks: Marks
    path: Path = ()

    def sub(self, *more: str | int) -> Where:
        return _new_where(Where, (self.display, self.marks, (*self.path, *more)))

    @property
    def line(self) -> int:
        return self.marks.line(self.path)

    @property
    def key_line(self) -> int:
        return self.marks.key_line(self.path)

    @property
    def source(self) -> str:
        return f"{self.display}:{self.line}"


_new_where = tuple.__new__


@dataclass(slots=True)
class Loaded:
    data: Any  # None for an empty file
    marks: Marks
    problems: list[tuple[int, str]]  # (line, message): the file was read but is wrong
