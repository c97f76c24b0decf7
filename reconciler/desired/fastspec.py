"""The PostgreSQL file format read without pydantic: most files are valid, and for them this
gives what spec.py's models would (the same values, the same keys counted as given) in a
fraction of the time, without importing pydantic and building its models at all (about 0.15 s
of every first plan).

It reads the table fastspec_table.py, written from the pydantic models by
`python -m tools.fastspec_table`, and applies the same value checks (spec_values.py). It never
decides that a file is wrong: at anything it does not read exactly as pydantic would — an
unknown key, a missing one, a value of the wrong kind, a check that fails, a value two
branches of a union accept — it gives up (None), and the caller validates the file with
spec.py, which alone words the errors.
tests/desired/test_fastspec.py checks the table is current and compares both readers on every
YAML file of the repository and on generated documents.

Owns: `Parsed` (a file's or an object's values, read as attributes like a model's) and
`read_file` / `parse`.
Must not: import pydantic, or say why a file is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.desired import spec_values
from reconciler.desired.fastspec_table import MODELS


class Unusual(Exception):
    """The value is not one this reader reads as pydantic would: pydantic must."""


class Parsed:
    """The values of one model (a file, a table, a column …) by field name, and
    `model_fields_set`: the fields the file gave, as on a pydantic model."""

    model_fields_set: set[str]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if k != "model_fields_set")
        return f"Parsed({shown})"


Check = Callable[[Any], Any]

_FUNCTIONS: dict[str | None, Callable[[Any], Any] | None] = {None: None}


def _function(name: str | None) -> Callable[[Any], Any] | None:
    if name not in _FUNCTIONS:
        _FUNCTIONS[name] = getattr(spec_values, name)  # type: ignore[arg-type]
    return _FUNCTIONS[name]


def _str(before: str | None, after: tuple[str, ...]) -> Check:
    first = _function(before)
    then = tuple(_function(name) for name in after)

    def check(v: Any) -> Any:
        if first is not None:
            v = first(v)
        if type(v) is not str:
            if not isinstance(v, str):
                raise Unusual
            v = str(v)  # strict str takes a str subclass (BoolText) and gives plain text
        for fn in then:
            try:
                v = fn(v)  # type: ignore[misc]
            except ValueError:
                raise Unusual from None
        return v

    return check


def _exact(kind: type, before: str | None) -> Check:
    first = _function(before)

    def check(v: Any) -> Any:
        if first is not None:
            v = first(v)
        if type(v) is not kind:
            raise Unusual
        return v

    return check


def _literal(before: str | None, values: tuple[Any, ...]) -> Check:
    first = _function(before)
    allowed = frozenset(values)

    def check(v: Any) -> Any:
        if first is not None:
            v = first(v)
        if type(v) is not str or v not in allowed:
            raise Unusual
        return v

    return check


def _list(item: Check, min_length: int) -> Check:
    def check(v: Any) -> Any:
        if type(v) is not list or len(v) < min_length:
            raise Unusual
        return [item(x) for x in v]

    return check


def _dict(key: Check, value: Check) -> Check:
    def check(v: Any) -> Any:
        if type(v) is not dict:
            raise Unusual
        return {key(k): value(x) for k, x in v.items()}

    return check


def _optional(inner: Check) -> Check:
    def check(v: Any) -> Any:
        return None if v is None else inner(v)

    return check


def _union(members: tuple[Check, ...]) -> Check:
    def check(v: Any) -> Any:
        found = []
        for member in members:
            try:
                found.append(member(v))
            except Unusual:
                continue
        if len(found) != 1:  # none, or a value two branches take: pydantic picks (or refuses)
            raise Unusual
        return found[0]

    return check


def _model(name: str) -> Check:
    return lambda v: parse(name, v)


def _compile(kind: tuple) -> Check:
    tag = kind[0]
    if tag == "str":
        return _str(kind[1], kind[2])
    if tag == "bool":
        return _exact(bool, kind[1])
    if tag == "int":
        return _exact(int, kind[1])
    if tag == "literal":
        return _literal(kind[1], kind[2])
    if tag == "list":
        return _list(_compile(kind[1]), kind[2])
    if tag == "dict":
        return _dict(_compile(kind[1]), _compile(kind[2]))
    if tag == "opt":
        return _optional(_compile(kind[1]))
    if tag == "union":
        return _union(tuple(_compile(k) for k in kind[1]))
    if tag == "model":
        return _model(kind[1])
    raise ValueError(f"fastspec_table.py names an unknown kind {kind!r}")


class _Model:
    __slots__ = ("after", "base", "fields", "mutable", "required", "shorthand", "shorthand_list")

    def __init__(self, row: tuple) -> None:
        shorthand, shorthand_list, after, fields = row
        self.shorthand: str | None = shorthand
        self.shorthand_list: bool = shorthand_list
        self.after = _function(after)
        # key (the alias when there is one) → (field name, check)
        self.fields = {key: (name, _compile(kind)) for key, name, kind, _, _ in fields}
        self.required = frozenset(name for _, name, _, required, _ in fields if required)
        # the defaults of the fields a file leaves out: shared where they cannot change, a
        # copy each time where they can (as pydantic copies a list or a mapping)
        self.base = {
            name: default
            for _, name, _, required, default in fields
            if not required and type(default) not in _MUTABLE
        }
        self.mutable = tuple(
            (name, default)
            for _, name, _, required, default in fields
            if not required and type(default) in _MUTABLE
        )


_MUTABLE = (list, dict)
_MODELS = {name: _Model(row) for name, row in MODELS.items()}


def parse(model: str, value: Any) -> Parsed:
    """`value` read as the model `model` would read it; Unusual where this reader cannot."""
    m = _MODELS[model]
    if m.shorthand is not None and (
        isinstance(value, str) or (m.shorthand_list and isinstance(value, list))
    ):
        value = {m.shorthand: value}
    if type(value) is not dict:
        raise Unusual
    out = m.base.copy()
    given: set[str] = set()
    fields = m.fields
    for key, v in value.items():
        field = fields.get(key) if type(key) is str else None
        if field is None:
            raise Unusual  # an unknown key (or a field's name where its alias is wanted)
        name, check = field
        out[name] = check(v)
        given.add(name)
    if not m.required <= given:
        raise Unusual
    for name, default in m.mutable:
        if name not in given:
            out[name] = type(default)(default)
    parsed = Parsed()
    out["model_fields_set"] = given
    parsed.__dict__ = out
    if m.after is not None:
        try:
            m.after(parsed)
        except ValueError:
            raise Unusual from None
    return parsed


def keys(model: str) -> dict[str, str]:
    """The key a file gives each field of `model` by (its alias, else its name), by field."""
    return {name: key for key, (name, _) in _MODELS[model].fields.items()}


def read_file(data: Any) -> Parsed | None:
    """A whole file's values (as spec.FileSpec), or None: spec.validate_file must read it."""
    try:
        return parse("FileSpec", data)
    except Unusual:
        return None
