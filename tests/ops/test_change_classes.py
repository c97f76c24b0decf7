"""Every change class a plan can hold implements what ops/base.Change leaves abstract.

Change is a plain class (ABCMeta's isinstance is slow on plans of thousands of changes), so
Python would no longer refuse to make a change whose class forgot one: this test does.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import reconciler.ops
from reconciler.ops.base import Change


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def _named(cls: type) -> bool:
    found: object = importlib.import_module(cls.__module__)
    for part in cls.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is cls


def _concrete_change_classes() -> list[type]:
    for info in pkgutil.walk_packages(reconciler.ops.__path__, "reconciler.ops."):
        importlib.import_module(info.name)
    # (a dataclass with slots is a new class: the one it replaced stays a subclass, unnamed)
    named = [c for c in _all_subclasses(Change) if _named(c)]
    return sorted(
        (c for c in named if dataclasses.is_dataclass(c)),
        key=lambda c: f"{c.__module__}.{c.__qualname__}",
    )


ABSTRACT = sorted(
    name
    for name, value in vars(Change).items()
    if getattr(getattr(value, "fget", value), "__isabstractmethod__", False)
)


def test_change_declares_what_is_abstract() -> None:
    assert ABSTRACT == ["address", "describe", "reverse", "statements"]


def _missing(cls: type) -> list[str]:
    """The abstract methods (and properties) `cls` has not implemented."""
    out = []
    for name in ABSTRACT:
        value = getattr(cls, name)
        if getattr(getattr(value, "fget", value), "__isabstractmethod__", False):
            out.append(name)
    return out


def test_every_change_class_implements_the_abstract_methods() -> None:
    classes = _concrete_change_classes()
    assert len(classes) > 40  # the walk found the kinds' modules
    # a base the kinds share (phased.py's _Phase) may leave them to its subclasses, checked here
    leaves = [c for c in classes if not c.__subclasses__()]
    missing = {f"{c.__module__}.{c.__qualname__}": _missing(c) for c in leaves}
    assert {k: v for k, v in missing.items() if v} == {}


def test_a_class_missing_one_is_caught() -> None:
    class Incomplete(Change):  # not a dataclass: the test above does not see it
        def statements(self) -> list:  # type: ignore[override]
            return []

    assert _missing(Incomplete) == ["address", "describe", "reverse"]
