"""Whole-object changes: the create and the drop of one object carried whole, each the
reverse of the other.

Owns: WholeChange and its two halves CreateWhole / DropWhole, and twin_of, which pairs a
create with its drop. What a pair shares is stated here once: the address comes from the
object value, reverse() builds the twin from the same fields, depends_on() reads the
change's `deps` (or the value's schema); a kind states only what differs (its SQL, hazards,
description and any further dependencies).
Must not: render SQL, or know a kind's fields beyond the conventions below.

Conventions of a pair:
- the first field holds the object value, whose `.address` is the change's (a kind whose
  address is built from several fields, a column's or a constraint's, overrides `address`);
- reverse() builds the twin from every field both declare under one name (or under the
  name `renamed` gives it); a field only one of them has takes the twin's default;
- depends_on(): the `deps` field where the kind has one; else, with `in_schema`, the schema
  of the value where it names one; else nothing. provides(): Change's (the address for a
  create, nothing for a drop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, ClassVar, TypeVar

from reconciler.model.address import Address
from reconciler.ops.base import Action, Change

_NONE: frozenset[Address] = frozenset()


class WholeChange(Change):
    """A create or a drop of one object whose change holds the whole value."""

    # the twin and the (own field, twin's field) pairs its reverse carries, set by twin_of
    twin: ClassVar[type[WholeChange]]
    twin_fields: ClassVar[tuple[tuple[str, str], ...]] = ()
    value_field: ClassVar[str]
    # depends on the schema the value is in (`value.schema`), where the kind has no `deps`
    in_schema: ClassVar[bool] = False

    @property
    def value(self) -> Any:
        """The object value: the first field."""
        return getattr(self, self.value_field)

    @property
    def address(self) -> Address:
        return self.value.address

    def reverse(self) -> Change:
        return self.twin(**{theirs: getattr(self, mine) for mine, theirs in self.twin_fields})

    def depends_on(self) -> frozenset[Address]:
        deps = getattr(self, "deps", None)
        if deps is not None:
            return deps
        if self.in_schema and (schema := self.value.schema):
            return frozenset({Address.of("pg", "schema", schema)})
        return _NONE


class CreateWhole(WholeChange):
    action = Action.CREATE


class DropWhole(WholeChange):
    action = Action.DROP


def _carried(
    source: type[WholeChange], target: type[WholeChange], renamed: dict[str, str]
) -> tuple[tuple[str, str], ...]:
    theirs = {f.name for f in fields(target)}  # type: ignore[arg-type]
    out = []
    for f in fields(source):  # type: ignore[arg-type]
        name = renamed.get(f.name, f.name)
        if name in theirs:
            out.append((f.name, name))
    return tuple(out)


# class attributes of a pair, which a field of the same name would hide
_CLASS_ATTRIBUTES = frozenset({"twin", "twin_fields", "value_field", "in_schema", "action"})
Twin = TypeVar("Twin", bound=type[WholeChange])


def twin_of(
    first: type[WholeChange], renamed: dict[str, str] | None = None
) -> Callable[[Twin], Twin]:
    """Class decorator pairing the decorated change with `first`: each reverses into the
    other. `renamed`: fields of `first` that the decorated class calls otherwise."""
    forth = dict(renamed or {})
    back = {theirs: mine for mine, theirs in forth.items()}

    def pair(second: Twin) -> Twin:
        for cls in (first, second):
            taken = {f.name for f in fields(cls)} & _CLASS_ATTRIBUTES  # type: ignore[arg-type]
            if taken:
                raise TypeError(f"{cls.__name__} has a field named {', '.join(taken)}")
        first.twin, second.twin = second, first
        first.value_field = fields(first)[0].name  # type: ignore[arg-type]
        second.value_field = fields(second)[0].name  # type: ignore[arg-type]
        first.twin_fields = _carried(first, second, forth)
        second.twin_fields = _carried(second, first, back)
        return second

    return pair
