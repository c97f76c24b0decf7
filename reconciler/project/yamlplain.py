"""The lean loop of project/yamlload.py: a file's values and lines, for the files most are —
lists, mappings and scalars without anchors, aliases, tags, repeated keys, a second document
or deep nesting — in about half the time of the careful loop.

Owns: reading such a file exactly as yamlload's careful loop reads it (the same values, BoolText
and lines; tests/desired/test_yaml_fast.py compares both on every YAML file of the repository
and on generated documents).
Must not: decide what anything else means: at the first thing it does not read it raises, and
load_bytes hands the whole file to the careful loop.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from yaml.nodes import ScalarNode

from reconciler.project.yamlvalues import (
    _BOOL,
    _NULL,
    _TEXT_TAGS,
    MAX_DEPTH,
    BoolText,
    Loaded,
    Marks,
    Path,
)


class _Unusual(Exception):
    """The file uses something only the careful loop reads (see the module docstring)."""


_resolver = yaml.resolver.Resolver()
_FIRST = frozenset(_resolver.yaml_implicit_resolvers)  # first characters of typed plain scalars


@lru_cache(maxsize=8192)  # few distinct plain values start like a typed scalar (t, n, 0-9 …)
def _plain_tag(value: str) -> str:
    return _resolver.resolve(ScalarNode, value, (True, False))


def _plain_value(value: str) -> Any:
    """A plain (unquoted, untagged) scalar in value position, as the careful loop reads it."""
    if value[:1] not in _FIRST and value:
        return value
    tag = _plain_tag(value)
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return BoolText(value)
    if tag not in _TEXT_TAGS:  # `<<`, `=`: the careful loop reports them
        raise _Unusual
    return value


def plain(loader: Any) -> Loaded:
    """The lean loop: lists, mappings and scalars without anchors, aliases, tags, repeated
    keys, a second document or deep nesting; raises _Unusual at anything else."""
    get_event = loader.get_event
    nodes: dict[Path, int] = {}
    keys: dict[Path, int] = {}
    # one frame per open list or mapping: [value, path, key waiting for its value or None]
    stack: list[list[Any]] = []
    data: Any = None
    documents = 0
    while True:
        event = get_event()
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.anchor is not None or event.tag is not None or not stack:
                raise _Unusual
            top = stack[-1]
            value = event.value
            container = top[0]
            if type(container) is dict:
                key = top[2]
                if key is None:  # this scalar is a key
                    if value in container or (value == "<<" and event.implicit[0]):
                        raise _Unusual
                    top[2] = value
                    keys[(*top[1], value)] = event.start_mark.line + 1
                    continue
                nodes[(*top[1], key)] = event.start_mark.line + 1
                container[key] = _plain_value(value) if event.implicit[0] else value
                top[2] = None
            else:
                nodes[(*top[1], len(container))] = event.start_mark.line + 1
                container.append(_plain_value(value) if event.implicit[0] else value)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                raise _Unusual
            if not stack:
                path: Path = ()
            else:
                top = stack[-1]
                if type(top[0]) is dict:
                    if top[2] is None:  # a list or mapping as a key
                        raise _Unusual
                    path = (*top[1], top[2])
                else:
                    path = (*top[1], len(top[0]))
            nodes[path] = event.start_mark.line + 1
            stack.append([{} if kind is yaml.MappingStartEvent else [], path, None])
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            done = stack.pop()[0]
            if not stack:
                data = done
            else:
                top = stack[-1]
                if type(top[0]) is dict:
                    top[0][top[2]] = done
                    top[2] = None
                else:
                    top[0].append(done)
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Unusual
        elif kind is yaml.StreamEndEvent:
            return Loaded(data, Marks(nodes, keys), [])
        elif kind is yaml.AliasEvent:
            raise _Unusual
