"""Changes of views and materialized views: create, drop (a changed query is a drop and a
create; so is a view whose table or column changes under it, see diff/views.py)."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.pg_objects import View
from reconciler.ops.base import Action, Change, Statement
from reconciler.ops.sqltext import ident, literal


def _keyword(v: View) -> str:
    return "MATERIALIZED VIEW" if v.materialized else "VIEW"


def create_view_sql(v: View, *, with_data: bool = True) -> str:
    # The query starts on a line of its own and the options on the next, so no text of the
    # query (checked to be one SELECT) can run into them.
    text = f"CREATE {_keyword(v)} {ident(v.schema, v.name)} AS\n{v.query}"
    if v.materialized:
        text += "\nWITH DATA" if with_data else "\nWITH NO DATA"
    return text


@dataclass(frozen=True, slots=True)
class CreateView(Change):
    view: View
    deps: frozenset[Address] = frozenset()
    action = Action.CREATE

    @property
    def address(self) -> Address:
        return self.view.address

    def statements(self) -> list[Statement]:
        out = [Statement(create_view_sql(self.view))]
        if self.view.comment is not None:
            target = f"{_keyword(self.view)} {ident(self.view.schema, self.view.name)}"
            out.append(Statement(f"COMMENT ON {target} IS {literal(self.view.comment)}"))
        return out

    def reverse(self) -> Change:
        return DropView(self.view, self.deps)

    def provides(self) -> frozenset[Address]:
        # the relation too: indexes and reading views name it whatever kind it is
        return frozenset({self.view.address, self.view.relation_address})

    def depends_on(self) -> frozenset[Address]:
        return self.deps

    def describe(self) -> str:
        return "materialized view" if self.view.materialized else "view"


@dataclass(frozen=True, slots=True)
class DropView(Change):
    view: View
    deps: frozenset[Address] = frozenset()
    action = Action.DROP

    @property
    def address(self) -> Address:
        return self.view.address

    def statements(self) -> list[Statement]:
        # RESTRICT: views reading this one were dropped by their own change before it.
        return [
            Statement(
                f"DROP {_keyword(self.view)} IF EXISTS {ident(self.view.schema, self.view.name)}"
                " RESTRICT"
            )
        ]

    def reverse(self) -> Change:
        return CreateView(self.view, self.deps)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        return self.deps

    def describe(self) -> str:
        return "materialized view" if self.view.materialized else "view"
