"""Attribute-level differences between two values of the same model type, via deepdiff.

Plan output, drift reports and the choice of ALTER statements all read this one list.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from reconciler.model.snapshot import value_dict


def attribute_changes(old: Any, new: Any, *, exclude: tuple[str, ...] = ()) -> list[dict]:
    """[{attribute, old, new}] for each top-level attribute whose value differs.

    Nested differences (e.g. one element of a tuple) are reported on their top-level attribute
    with whole old/new values, which is what an ALTER needs.
    """
    if old == new:
        return []  # the common case by far: equal values need no deep comparison
    if dataclasses.is_dataclass(old) and all(
        getattr(old, f.name) == getattr(new, f.name)
        for f in dataclasses.fields(old)
        if f.compare and f.name not in exclude
    ):
        return []
    from deepdiff import DeepDiff  # deferred: heavy; only values that differ pay its import

    a, b = value_dict(old), value_dict(new)
    diff = DeepDiff(a, b, ignore_order=False, exclude_paths=[f"root['{x}']" for x in exclude])
    attrs: list[str] = []
    for paths in diff.values():
        for path in paths:
            key = path.split("'")[1] if "['" in path else path
            if key not in attrs:
                attrs.append(key)
    order = list(a)
    attrs.sort(key=order.index)
    return [{"attribute": k, "old": a[k], "new": b[k]} for k in attrs]


def only_comment_differs(old: Any, new: Any) -> bool:
    """Whether two values of a model type differ in their comment and nothing else."""
    return old.comment != new.comment and dataclasses.replace(old, comment=new.comment) == new
