"""The one compare loop of reconciler/diff (kinds.walk), and the expression reads the
comparators order changes by (DiffContext.refs): no server needed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pglast.parser import ParseError

from reconciler.diff import compare
from reconciler.diff.context import DiffContext
from reconciler.diff.kinds import Kind, walk
from reconciler.model.address import Address
from reconciler.model.pg import Check, Column, Schema, Table
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.ops.pg.constraint import AddConstraint
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


def _table(*checks: Check) -> Table:
    return Table("public", "t", (Column("a", "integer"), Column("b", "integer")), checks=checks)


def _snap(t: Table) -> PgSnapshot:
    return PgSnapshot(schemas={"public": Schema("public")}, tables={("public", "t"): t})


def test_a_check_added_waits_for_the_columns_it_reads():
    desired = _snap(_table(Check("t_b_check", "b > 0")))
    changes: list[Change] = compare(desired, _snap(_table()))
    (add,) = [c for c in changes if isinstance(c, AddConstraint)]
    assert Address.of("pg", "column", "public", "t", "b") in add.depends_on()
    assert Address.of("pg", "column", "public", "t", "a") not in add.depends_on()


def test_an_expression_that_does_not_parse_is_an_error_not_a_lost_dependency():
    """Before, DiffContext.refs answered () for it: the check lost its columns' edges and the
    plan could order it before them, without a word."""
    desired = _snap(_table(Check("t_b_check", "b >")))
    with pytest.raises(ParseError):
        compare(desired, _snap(_table()))
    ctx = DiffContext(desired, _snap(_table()))
    with pytest.raises(ParseError):
        ctx.expression_deps("public", "t", "b >")
    assert ctx.refs(None) == () and ctx.refs("") == ()
    assert ctx.refs("a + b > a") == ("a", "b")
