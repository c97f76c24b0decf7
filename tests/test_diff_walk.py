"""The one compare loop of reconciler/diff (kinds.walk): no server needed."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.diff.kinds import Kind, walk
from reconciler.model.address import Address
from reconciler.ops.pg.objects import SetComment


@dataclass(frozen=True)
class _Thing:
    name: str
    body: str = ""
    comment: str | None = None

    @property
    def address(self) -> Address:
        return Address.of("pg", "thing", self.name)


def _said(changes: list) -> list[str]:
    return [c if isinstance(c, str) else f"comment {c.address.parts[-1]}" for c in changes]


def _kind(**hooks) -> Kind:
    base = {
        "create": lambda t: [f"create {t.name}"],
        "drop": lambda t: [f"drop {t.name}"],
        "comments": True,
    }
    return Kind(**(base | hooks))


def _walk(want: list[_Thing], have: list[_Thing], kind: Kind) -> list[str]:
    return _said(walk({t.name: t for t in want}, {t.name: t for t in have}, kind))


def test_each_pair_becomes_what_its_difference_asks_in_the_desired_order_then_the_drops():
    want = [_Thing("new"), _Thing("same"), _Thing("noted", comment="x"), _Thing("other", "b")]
    have = [_Thing("gone"), _Thing("other", "a"), _Thing("same"), _Thing("noted")]
    assert _walk(want, have, _kind()) == [
        "create new",
        "comment noted",
        "drop other",  # no alter: replaced, its drop first
        "create other",
        "drop gone",
    ]


def test_hooks_alter_rebuild_and_policy():
    want = [_Thing("a", "2"), _Thing("b", "2"), _Thing("c"), _Thing("d", "x")]
    have = [_Thing("a", "1"), _Thing("b", "1"), _Thing("c"), _Thing("d"), _Thing("kept")]
    kind = _kind(
        alter=lambda old, new: [f"alter {new.name}"] if new.name == "a" else None,
        replace=lambda old, new: [f"replace {new.name}"],
        rebuild=lambda key, old, new: key == "c",
        elsewhere=lambda key, new: key == "d",
        between=lambda: ["between"],
        left_alone=lambda key, old: key == "kept",
    )
    assert _walk(want, have, kind) == ["alter a", "replace b", "replace c", "between"]


def test_a_pair_that_is_the_same_yields_what_unchanged_says():
    kind = _kind(unchanged=lambda old, new: [f"look at {new.name}"])
    assert _walk([_Thing("t")], [_Thing("t")], kind) == ["look at t"]
    kind = _kind(same=lambda old, new: old.name == new.name)  # the body does not count
    assert _walk([_Thing("t", "2")], [_Thing("t", "1")], kind) == []


def test_comment_only_is_a_comment_change_only_when_the_kind_says_so():
    kind = _kind(comments=False, alter=lambda old, new: ["alter t"])
    assert _walk([_Thing("t", comment="x")], [_Thing("t")], kind) == ["alter t"]
    got = walk({"t": _Thing("t", comment="x")}, {"t": _Thing("t")}, _kind())
    assert isinstance(got[0], SetComment) and got[0].new == "x"
