"""Writes reconciler/desired/fastspec_table.py: the PostgreSQL file format's models (spec.py,
spec_table.py, spec_base.py) as plain data that fastspec.py reads files with, without pydantic.

Run `python -m tools.fastspec_table` after changing a model; tests/desired/test_fastspec.py
fails while the committed table differs from what this writes.

Each field's kind is worked out from its annotation: `str`, `bool`, `int` and `Literal` with
the functions of spec_values.py that its BeforeValidator / AfterValidator name, `list` (with
its minimum length), `dict`, unions (`X | None` is "opt") and models. Anything else — a
validator that is not in spec_values.py, a constraint other than a minimum length, a model
validator other than the shorthand's expansion and `_one_target` — stops the generation: the
fast reader must never guess what pydantic would do.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import AfterValidator, BaseModel, BeforeValidator, Strict, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from reconciler.desired import spec_values
from reconciler.desired.spec import FileSpec

TABLE = Path(__file__).resolve().parents[1] / "reconciler" / "desired" / "fastspec_table.py"
# model validators fastspec.py runs itself (see _AFTER there), by name
_MODEL_VALIDATORS = {"_expand": None, "_one_target": "one_target"}


class Unsupported(Exception):
    """A model uses something the table cannot say."""


def _function(fn: Any, where: str) -> str:
    if getattr(fn, "__module__", None) != spec_values.__name__:
        raise Unsupported(f"{where}: validator {fn!r} is not a function of spec_values.py")
    return fn.__name__


def _kind(tp: Any, meta: tuple[Any, ...], where: str, models: dict[str, type]) -> tuple:
    if typing.get_origin(tp) is Annotated:
        base, *more = typing.get_args(tp)
        return _kind(base, (*more, *meta), where, models)
    before: list[str] = []
    after: list[str] = []
    min_length = 0
    for m in meta:
        if isinstance(m, BeforeValidator):
            before.append(_function(m.func, where))
        elif isinstance(m, AfterValidator):
            after.append(_function(m.func, where))
        elif isinstance(m, annotated_types.MinLen):
            min_length = m.min_length
        elif isinstance(m, FieldInfo):
            for inner in m.metadata:
                if not isinstance(inner, annotated_types.MinLen):
                    raise Unsupported(f"{where}: constraint {inner!r}")
                min_length = inner.min_length
        elif not isinstance(m, Strict | WithJsonSchema):  # every model is strict already
            raise Unsupported(f"{where}: annotation {m!r}")
    if len(before) > 1:
        raise Unsupported(f"{where}: more than one BeforeValidator")
    first = before[0] if before else None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if first or after or min_length:
            raise Unsupported(f"{where}: validators on a union")
        args = typing.get_args(tp)
        rest = tuple(a for a in args if a is not type(None))
        inner = (
            _kind(rest[0], (), where, models)
            if len(rest) == 1
            else ("union", tuple(_kind(a, (), where, models) for a in rest))
        )
        return ("opt", inner) if len(rest) < len(args) else inner
    if origin is list:
        if first or after:
            raise Unsupported(f"{where}: validators on a list")
        (item,) = typing.get_args(tp)
        return ("list", _kind(item, (), where, models), min_length)
    if origin is dict:
        if first or after or min_length:
            raise Unsupported(f"{where}: validators on a mapping")
        key, value = typing.get_args(tp)
        return ("dict", _kind(key, (), where, models), _kind(value, (), where, models))
    if min_length:
        raise Unsupported(f"{where}: a minimum length on a scalar")
    if origin is Literal:
        if after:
            raise Unsupported(f"{where}: AfterValidator on a Literal")
        return ("literal", first, tuple(typing.get_args(tp)))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if first or after:
            raise Unsupported(f"{where}: validators on a model")
        _collect(tp, models)
        return ("model", tp.__name__)
    if tp is bool or tp is int:
        if after:
            raise Unsupported(f"{where}: AfterValidator on {tp.__name__}")
        return (tp.__name__, first)
    if tp is str:
        return ("str", first, tuple(after))
    raise Unsupported(f"{where}: type {tp!r}")


def _collect(model: type[BaseModel], models: dict[str, type]) -> None:
    if models.get(model.__name__) is model:
        return
    if model.__name__ in models:
        raise Unsupported(f"two models named {model.__name__}")
    models[model.__name__] = model
    hints = typing.get_type_hints(model, include_extras=True)
    for name in model.model_fields:
        _kind(hints[name], (), f"{model.__name__}.{name}", models)


def _field_rows(model: type[BaseModel], models: dict[str, type]) -> list[str]:
    rows = []
    hints = typing.get_type_hints(model, include_extras=True)  # annotations as written
    for name, f in model.model_fields.items():
        if f.default_factory is not None:
            raise Unsupported(f"{model.__name__}.{name}: a default_factory")
        required = f.default is PydanticUndefined
        kind = _kind(hints[name], (), f"{model.__name__}.{name}", models)
        default = None if required else f.default
        rows.append(repr((f.alias or name, name, kind, required, default)))
    return rows


def _shared_base(model: type[BaseModel]) -> type[BaseModel] | None:
    """The model's base whose fields it inherits (TableFields), when it has one."""
    for base in model.__mro__[1:]:
        if issubclass(base, BaseModel) and base.model_fields and base.__name__ != "Spec":
            return base
    return None


def _model_row(model: type[BaseModel], models: dict[str, type], shared: dict[str, int]) -> str:
    config = model.model_config
    if config.get("extra") != "forbid" or not config.get("strict"):
        raise Unsupported(f"{model.__name__}: not strict, or extra keys allowed")
    if config.get("populate_by_name") or config.get("validate_by_name"):
        raise Unsupported(f"{model.__name__}: fields may be given by name as well as by alias")
    after = None
    for name in model.__pydantic_decorators__.model_validators:
        if name not in _MODEL_VALIDATORS:
            raise Unsupported(f"{model.__name__}: model validator {name}")
        after = _MODEL_VALIDATORS[name] or after
    if model.__pydantic_decorators__.field_validators:
        raise Unsupported(f"{model.__name__}: field validators")
    rows = _field_rows(model, models)
    base = _shared_base(model)
    head = []
    if base is not None:  # its fields come first, in the base's order, written once
        inherited = len(base.model_fields)
        if rows[:inherited] != _field_rows(base, models):
            raise Unsupported(f"{model.__name__}: fields of {base.__name__} not first")
        shared[base.__name__] = inherited
        head, rows = [f"*_{base.__name__.upper()},"], rows[inherited:]
    shorthand = getattr(model, "shorthand", None)
    shorthand_list = bool(getattr(model, "shorthand_list", False))
    return "\n".join(
        [
            f"    {model.__name__!r}: ({shorthand!r}, {shorthand_list!r}, {after!r}, (",
            *(f"        {line}" for line in head),
            *(f"        {row}," for row in rows),
            "    )),",
        ]
    )


def render() -> str:
    models: dict[str, type] = {}
    _collect(FileSpec, models)
    shared: dict[str, int] = {}
    rows = [_model_row(models[name], models, shared) for name in sorted(models)]
    bases = []
    for name in sorted(shared):
        base = next(b for m in models.values() for b in m.__mro__ if b.__name__ == name)
        bases += [
            f"# the fields of {name}, which more than one model starts with",
            f"_{name.upper()} = (",
            *(f"    {row}," for row in _field_rows(base, models)),
            ")",
            "",
        ]
    return "\n".join(
        [
            '"""The PostgreSQL file format as data, for desired/fastspec.py. Written by',
            "`python -m tools.fastspec_table` from the pydantic models: do not edit (a test checks",
            'that it is current)."""',
            "",
            "# fmt: off",
            *bases,
            "# name: (shorthand key, shorthand takes a list, after-check in spec_values.py,",
            "#        ((key, field, kind, required, default), ...))",
            "MODELS = {",
            *rows,
            "}",
            "",
        ]
    )


def main() -> None:
    TABLE.write_text(render(), encoding="utf-8")
    print(f"wrote {TABLE}", file=sys.stderr)


if __name__ == "__main__":
    main()
