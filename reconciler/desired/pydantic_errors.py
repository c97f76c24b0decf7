"""Pydantic validation errors turned into line-marked sentences, for both YAML file formats.

Owns: the wording of shape problems (unknown key with a "did you mean", missing key, wrong
kind of value, ...) and the line each one is reported at, for the models of spec.py (Postgres
files) and keyspec.py (Redis files); `describe` words a YAML value the same way for both.

Must not: define or validate models (spec.py and keyspec.py do, and pass their root model).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from reconciler.project.yamlload import BoolText, Marks, Path, at

_EXPECTED = {
    "string_type": "text",
    "bool_type": "true or false",
    "list_type": "a list",
    "int_type": "a whole number",
    "model_type": "a mapping",
    "dict_type": "a mapping",
}


def validation_problems(
    exc: ValidationError, marks: Marks, root: type[BaseModel]
) -> list[tuple[int, str]]:
    """(line, message) of every error in `exc`, raised validating a `root` document. A value
    that matches no branch of a union (`true`, or a list) is one problem naming every kind it
    may be, at the key's own path (pydantic's branch names are no key of the file)."""
    out: list[tuple[int, str]] = []
    merged: dict[Path, int] = {}  # a union's path → its problem's index in `out`
    for err in exc.errors():
        loc = tuple(err["loc"])
        plain = _without_branches(loc, marks)
        if plain == loc:
            out.append(_problem(err, marks, root))
            continue
        line, message = _problem({**err, "loc": plain}, marks, root)
        if plain not in merged:
            merged[plain] = len(out)
            out.append((line, message))
            continue
        first_line, first = out[merged[plain]]
        wanted = _MUST.match(message.removeprefix(f"{at(plain, '')}"))
        head = _MUST.match(first.removeprefix(f"{at(plain, '')}"))
        if wanted and head and wanted.group(1) not in head.group(1):
            kinds = f"{head.group(1)}, or {wanted.group(1)}"
            out[merged[plain]] = (first_line, at(plain, f"must be {kinds}, not {head.group(2)}"))
    return out


_MUST = re.compile(r"must be (.+), not (.+)$", re.DOTALL)


_BRANCH = re.compile(r"[a-z][a-z-]*\[.*\]\Z", re.DOTALL)


def _without_branches(loc: Path, marks: Marks) -> Path:
    """`loc` less the union branch names in it. A part named like a branch (`str`, `bool`) that
    is a key the file holds at that place is the file's key, not a branch."""
    out: list[str | int] = []
    for part in loc:
        if _branch(part) and (*out, part) not in marks.nodes:
            continue
        out.append(part)
    return tuple(out)


def _branch(part: Any) -> bool:
    """A union branch's name in an error's path (`function-after[lower(), str]`, `bool`); a
    key of the document such as `[` is none."""
    return isinstance(part, str) and (
        bool(_BRANCH.match(part)) or part in {"str", "bool", "int", "float"}
    )


def _problem(err: Any, marks: Marks, root: type[BaseModel]) -> tuple[int, str]:
    """(line, message) of one pydantic error dict; `root` is the model that was validated."""
    loc: Path = tuple(err["loc"])
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        hint = difflib.get_close_matches(key, _known_keys(root, loc[:-1]), n=1, cutoff=0.6)
        suffix = f" (did you mean '{hint[0]}'?)" if hint else ""
        return marks.key_line(loc), at(loc[:-1], f"unknown key '{key}'{suffix}")
    if kind == "missing":
        return marks.line(loc[:-1]), at(loc[:-1], f"missing required key '{loc[-1]}'")
    if kind in _EXPECTED:
        message = f"must be {_EXPECTED[kind]}, not {describe(value)}"
    elif kind == "literal_error":
        message = f"must be {err['ctx']['expected']}, not {describe(value)}"
    elif kind == "too_short":
        message = "must not be empty"
    elif kind == "value_error":
        message = str(err["ctx"]["error"])
    else:
        message = err["msg"]
    return marks.line(loc), at(loc, message)


def describe(value: Any) -> str:
    """A YAML value as a message names it: `'text'` (shortened), `the boolean yes`, `a list`."""
    if value is None:
        return "empty (null)"
    if isinstance(value, BoolText):
        return f"the boolean {value}"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _known_keys(root: type[BaseModel], loc: Path) -> list[str]:
    """Known keys of the model found at `loc` below `root` (for "did you mean")."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        fields = {(f.alias or n): f for n, f in model.model_fields.items()}
        model = _model_in(fields[part].annotation) if part in fields else None
    if model is None:
        return []
    return [(f.alias or n) for n, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds (directly, in a list, a union or Annotated), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found:
                return found
    return None
