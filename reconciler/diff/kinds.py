"""The one compare loop: a kind's desired and live objects, keyed alike, walked together.

Owns: the shape every comparator of a kind of object shares (`walk`), and the description a
comparator gives of its kind (`Kind`). An object only desired is created; a pair that must be
made again whatever else differs (`Kind.rebuild`) is replaced; a pair that is the same
(`Kind.same`) yields what `Kind.unchanged` says (for most kinds nothing); a pair whose comment
alone differs gets the new comment (`Kind.comments`); one that changes in place is altered
(`Kind.alter`); any other is replaced (`Kind.replace`: by default its drop, then its create).
An object only live is dropped, unless `Kind.left_alone` says it stays. The changes come in
that order: the desired side's in its order, what `Kind.between` adds, the live side's.
Must not: know a kind of object (each comparator describes its own, policy included: what is
left alone, what a drop keeps), order changes (pipeline/graph.py), talk to servers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from reconciler.model.compare import only_comment_differs
from reconciler.ops.base import Change
from reconciler.ops.pg.objects import SetComment

K = TypeVar("K")
T = TypeVar("T")


def _nothing(*_: object) -> list[Change]:
    return []


def _never(*_: object) -> bool:
    return False


def _not_in_place(*_: object) -> list[Change] | None:
    return None


@dataclass(frozen=True, slots=True)
class Kind(Generic[K, T]):
    """How one kind of object is created, changed and dropped (each hook returns the changes,
    in the order they are emitted)."""

    create: Callable[[T], list[Change]]
    drop: Callable[[T], list[Change]]
    # (old, new) → the changes that make old new in place, or None when none can
    alter: Callable[[T, T], list[Change] | None] = _not_in_place
    # (old, new) → the changes that make it again; None: drop(old), then create(new)
    replace: Callable[[T, T], list[Change]] | None = None
    # a pair differing in its comment alone: SetComment on the object's address
    comments: bool = False
    same: Callable[[T, T], bool] = operator.eq
    unchanged: Callable[[T, T], list[Change]] = _nothing  # what a pair that is the same yields
    rebuild: Callable[[K, T, T], bool] = _never  # replaced, whatever differs (or not)
    elsewhere: Callable[[K, T], bool] = _never  # a desired object another comparator makes
    left_alone: Callable[[K, T], bool] = _never  # a live-only object that is not dropped
    between: Callable[[], list[Change]] = _nothing  # after the desired side, before the drops


def walk(want: Mapping[K, T], have: Mapping[K, T], kind: Kind[K, T]) -> list[Change]:
    """The changes that make `have` (live, by key) into `want` (desired, by the same key)."""
    out: list[Change] = []
    for key, new in want.items():
        if kind.elsewhere(key, new):
            continue
        old = have.get(key)
        if old is None:
            out += kind.create(new)
        elif kind.rebuild(key, old, new):
            out += _replace(kind, old, new)
        elif kind.same(old, new):
            out += kind.unchanged(old, new)
        elif kind.comments and only_comment_differs(old, new):
            out += comment_change(old, new)
        else:
            altered = kind.alter(old, new)
            out += _replace(kind, old, new) if altered is None else altered
    out += kind.between()
    for key, old in have.items():
        if key not in want and not kind.left_alone(key, old):
            out += kind.drop(old)
    return out


def _replace(kind: Kind[Any, T], old: T, new: T) -> list[Change]:
    if kind.replace is not None:
        return kind.replace(old, new)
    return [*kind.drop(old), *kind.create(new)]


def comment_change(old: Any, new: Any) -> list[Change]:
    """The object's new comment, when it differs (none else)."""
    if old.comment == new.comment:
        return []
    return [SetComment(new.address, old.comment, new.comment)]
