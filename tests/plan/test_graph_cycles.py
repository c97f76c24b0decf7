"""A ring of changes that need each other is reported with the objects as the desired state
names them and where they are written, never the graph's internal node names."""

from __future__ import annotations

import pytest

from reconciler.errors import ReconcilerError
from reconciler.model.address import Address
from reconciler.model.pg_objects import View
from reconciler.ops.pg.view import CreateView
from reconciler.pipeline.graph import order


def _view(name: str, reads: str, line: int | None, *, materialized: bool = False) -> CreateView:
    kind = "materialized_view" if materialized else "view"
    source = f"schemas/views/v.yaml:{line}" if line else None
    view = View("public", name, f"SELECT * FROM {reads}", materialized, source=source)
    return CreateView(view, deps=frozenset({Address.of("pg", kind, "public", reads)}))


def test_a_view_ring_names_the_views_and_their_lines() -> None:
    with pytest.raises(ReconcilerError) as caught:
        order([_view("v2", "v1", 3), _view("v1", "v2", 2)])
    error = caught.value
    assert str(error) == (
        "The plan cannot order its changes: views public.v1 (schemas/views/v.yaml:2) → "
        "public.v2 (schemas/views/v.yaml:3) → public.v1 depend on each other."
    )
    assert "CreateView" not in str(error) and "pg.view" not in str(error)
    assert error.detail is not None and "change the query of one of them" in error.detail
    assert "two steps" not in error.detail


def test_a_ring_without_known_files_still_names_the_objects() -> None:
    ring = [_view(n, r, None, materialized=True) for n, r in (("a", "b"), ("b", "c"), ("c", "a"))]
    with pytest.raises(ReconcilerError) as caught:
        order(ring)
    assert str(caught.value) == (
        "The plan cannot order its changes: materialized views public.a → public.b → "
        "public.c → public.a depend on each other."
    )
