"""YAML → plain values plus the line of every node, so any later error can name its line.

Only YAML's safe core is accepted and some of its traps are closed on purpose:
- duplicate mapping keys are errors (PyYAML would silently keep the last one);
- alias expansion is bounded (a "billion laughs" document is refused, not expanded), and so is
  nesting depth;
- one document per file, at most MAX_BYTES, UTF-8 only;
- a plain scalar keeps the text it was written with ("1.10" stays "1.10"): only null (None)
  and booleans are recognised; booleans come back as BoolText, a str that remembers it was
  a YAML boolean, so a column called `on` is still the text "on".
Values are built straight from the parser's events (libyaml's when available) by an iterative
loop: no recursion, so no input can overflow the C or the Python stack, and no node graph.
Most files use none of anchors, aliases, tags, a second document or a repeated key: a lean loop
reads those (yamlplain.py), and any file where it meets one of them is read again by the careful
one (_Composer), which alone decides what such a file means — the two agree on every file the
lean one accepts (tests/desired/test_yaml_fast.py compares them). Before both, a file written
the way `reconciler export` writes one (block style, a scalar per line) is read line by line
without the parser (yamllines.py), in about 60 % of the lean loop's time; at anything else it
hands the file on, and it too agrees with the careful loop on every file it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import ScalarNode

from reconciler.project import MAX_BYTES
from reconciler.project.yamllines import read as quick_read
from reconciler.project.yamlplain import plain
from reconciler.project.yamlvalues import (
    _BOOL,
    _NULL,
    _TEXT_TAGS,
    MAX_ALIAS_NODES,
    MAX_DEPTH,
    BoolText,
    Loaded,
    Marks,
    Path,
    Where,
    YamlError,
)

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "BoolText",
    "Loaded",
    "Marks",
    "Path",
    "Where",
    "YamlError",
    "at",
    "load_bytes",
    "render_path",
]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # same events, libyaml is ~10x faster


def load_bytes(raw: bytes) -> Loaded:
    """Parse one file's bytes; raises YamlError when nothing usable can be read."""
    if len(raw) > MAX_BYTES:
        raise YamlError(1, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    text = _decode(raw)
    try:
        return quick_read(text)
    except Exception:  # anything it does not read: the lean loop, then the careful one
        pass
    loader = None
    try:
        loader = _Loader(text)
        try:
            return plain(loader)
        except Exception:  # anything unusual, or an error: the careful loop says what it is
            loader.dispose()
        loader = _Loader(text)  # the reader already rejects unprintable characters
        return _Composer(loader).run()
    except yaml.MarkedYAMLError as exc:
        raise YamlError(_line(exc.problem_mark), _yaml_message(exc, text)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise YamlError(
            line, f"file contains a character YAML does not allow (#x{exc.character:04x})"
        ) from None
    except YamlError:
        raise
    except Exception as exc:  # any other reader failure is still a sentence, not a traceback
        raise YamlError(1, f"the file could not be read as YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()


def render_path(path: Path) -> str:
    """('tables', 0, 'columns', 2) → 'tables[0].columns[2]'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def at(path: Path, message: str) -> str:
    """A message prefixed with the key path it is about (nothing for the top level)."""
    return f"{render_path(path)}: {message}" if path else message


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise YamlError(
            line, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        ) from None


def _line(mark: Any) -> int:
    return mark.line + 1 if mark is not None else 1


def _yaml_message(exc: yaml.MarkedYAMLError, text: str) -> str:
    problem = exc.problem or "invalid YAML"
    mark = exc.problem_mark
    lines = text.splitlines()
    if mark is not None and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
        return "tab characters are not allowed for indentation in YAML; use spaces"
    context = ""
    if exc.context and exc.context_mark is not None:
        context = f" ({exc.context} started on line {_line(exc.context_mark)})"
    elif exc.context:
        context = f" ({exc.context})"
    return f"invalid YAML: {problem}{context}"


# Plain scalars YAML 1.1 reads as its own words rather than text (PyYAML resolves them to tags).
_KEY_WORDS = {"tag:yaml.org,2002:merge": "merge key", "tag:yaml.org,2002:value": "value key"}
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
_CONTAINER_TAGS = (None, "!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")
_SKIP = object()  # the key of a mapping entry whose value is read but not kept


@dataclass(slots=True)
class _Frame:
    """A list or mapping being read."""

    value: list | dict
    path: Path
    anchor: str | None
    size: int = 1  # nodes inside, aliases counted at their full size
    key: Any = None  # mapping: the key waiting for its value (None: next scalar is a key)
    first_line: dict[str, int] = field(default_factory=dict)  # mapping: key → line


class _Composer:
    """Builds values from parser events, recording lines and bounding aliases and depth."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.loaded = Loaded(None, Marks(), [])
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int] | None] = {}  # None: still open (a cycle)
        self.expanded = 0
        self.documents = 0
        self.merge_key = False  # whether the last scalar read was YAML's merge key `<<`

    def run(self) -> Loaded:
        while True:
            event = self.loader.get_event()
            line = _line(event.start_mark)
            if isinstance(event, yaml.StreamEndEvent):
                return self.loaded
            if isinstance(event, yaml.DocumentStartEvent):
                self.documents += 1
                if self.documents > 1:
                    raise YamlError(
                        line,
                        "a file must hold a single YAML document, but a second one starts here",
                    )
            elif isinstance(event, yaml.ScalarEvent):
                self.add(self.scalar(event, line), event.anchor, 1, line)
            elif isinstance(event, yaml.AliasEvent):
                self.alias(event.anchor, line)
            elif isinstance(event, _OPEN):
                self.open(event, line)
            elif isinstance(event, _CLOSE):
                frame = self.stack.pop()
                self.add(frame.value, frame.anchor, frame.size, None, opened=frame)

    def child_path(self) -> Path | None:
        """Path of the next value, or None when it is a mapping key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        if top.key is None:
            return None
        if top.key is _SKIP:
            return (*top.path, "#skipped")
        return (*top.path, top.key)

    def open(self, event: Any, line: int) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise YamlError(line, f"the YAML is nested more than {MAX_DEPTH} levels deep")
        path = self.child_path()
        if path is None:  # a list or mapping used as a mapping key
            self.problem(line, "a mapping key must be plain text")
            path = (*self.stack[-1].path, "#key")
        self.check_tag(event.tag, line, _CONTAINER_TAGS, path)
        self.loaded.marks.nodes[path] = line
        if event.anchor is not None:
            self.anchors[event.anchor] = None
        value: list | dict = [] if isinstance(event, yaml.SequenceStartEvent) else {}
        self.stack.append(_Frame(value, path, event.anchor))

    def alias(self, anchor: str, line: int) -> None:
        if anchor not in self.anchors:
            raise YamlError(line, f"the alias '*{anchor}' refers to no anchor")
        found = self.anchors[anchor]
        if found is None:
            raise YamlError(line, "an alias refers to a mapping or list that contains it")
        value, size = found
        self.expanded += size
        if self.expanded > MAX_ALIAS_NODES:
            raise YamlError(
                line, f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing"
            )
        path = self.child_path()
        if path is not None:
            self.loaded.marks.nodes[path] = line
        self.add(value, None, size, line)

    def add(
        self, value: Any, anchor: str | None, size: int, line: int | None, *, opened: Any = None
    ) -> None:
        """Store a finished value in its parent (or as the document); `line` is None for a
        list or mapping, whose line was recorded when it `opened`."""
        if anchor is not None:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.loaded.data = value
            if line is not None:
                self.loaded.marks.nodes[()] = line
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.value, list):
            if line is not None and opened is None:
                self.loaded.marks.nodes[(*top.path, len(top.value))] = line
            top.value.append(value)
        elif top.key is None:
            self.key(top, value, line if line is not None else 1, opened is not None)
        else:
            if top.key is not _SKIP:
                if line is not None and opened is None:
                    self.loaded.marks.nodes[(*top.path, top.key)] = line
                top.value[top.key] = value
            top.key = None

    def key(self, top: _Frame, value: Any, line: int, container: bool) -> None:
        top.key = _SKIP
        if container:
            return  # already reported when the container opened
        if not isinstance(value, str | None):  # an alias to a list or mapping
            self.problem(line, "a mapping key must be plain text", top.path)
            return
        key = "" if value is None else str(value)
        if key in top.first_line:
            first = top.first_line[key]
            self.problem(line, f"duplicate key '{key}' (first on line {first})", top.path)
        elif key == "<<" and self.merge_key:
            self.problem(line, "YAML merge keys ('<<') are not supported", top.path)
        else:
            top.first_line[key] = line
            self.loaded.marks.keys[(*top.path, key)] = line
            top.key = key

    def scalar(self, event: Any, line: int) -> Any:
        tag = event.tag
        if tag in (None, "!"):
            tag = self.loader.resolve(ScalarNode, event.value, event.implicit)
        self.merge_key = tag == "tag:yaml.org,2002:merge"
        path = self.child_path()
        if path is None:
            return event.value  # a key: its text as written
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return BoolText(event.value)
        if tag in _KEY_WORDS and event.implicit[0]:  # plain `<<` or `=`: YAML's own words
            value = event.value
            self.problem(
                line,
                f"'{value}' unquoted is YAML's {_KEY_WORDS[tag]}, not text: write it quoted "
                f'("{value}") for the text {value}',
                path,
            )
            return str(value)
        self.check_tag(tag, line, _TEXT_TAGS, path)
        return str(event.value)

    def check_tag(self, tag: str | None, line: int, allowed: Any, path: Path) -> None:
        if tag not in allowed:
            self.problem(line, f"unsupported YAML tag '{tag}'", path)

    def problem(self, line: int, message: str, path: Path | None = None) -> None:
        if path is None:
            path = self.stack[-1].path if self.stack else ()
        self.loaded.problems.append((line, at(path, message)))
