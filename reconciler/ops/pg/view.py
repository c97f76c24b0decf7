"""Changes of views and materialized views: create, drop (a changed query is a drop and a
create; so is a view whose table or column changes under it, see diff/views.py)."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.pg_objects import View
from reconciler.ops.base import Action, Change, Statement
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import drop_if_kind, guarded, ident, literal


def _keyword(v: View) -> str:
    return "MATERIALIZED VIEW" if v.materialized else "VIEW"


def create_view_sql(v: View, *, with_data: bool = True) -> str:
    # The query starts on a line of its own and the options on the next, so no text of the
    # query (checked to be one SELECT) can run into them.
    # options are checked names and plain values (desired/views.py) or the catalog's own
    options = f" WITH ({', '.join(v.options)})" if v.options else ""
    text = f"CREATE {_keyword(v)} {ident(v.schema, v.name)}{options} AS\n{v.query}"
    if v.materialized:
        text += "\nWITH DATA" if with_data else "\nWITH NO DATA"
    return text


@dataclass(frozen=True, slots=True)
class CreateView(CreateWhole):
    view: View
    deps: frozenset[Address] = frozenset()
    retaken: bool = False  # the plan drops a table of its name: so does the way back

    def statements(self) -> list[Statement]:
        v = self.view
        out = [Statement(guarded(create_view_sql(v), "duplicate_table"))]
        if v.comment is not None:
            target = f"{_keyword(v)} {ident(v.schema, v.name)}"
            out.append(Statement(f"COMMENT ON {target} IS {literal(v.comment)}"))
        out += [
            Statement(f"COMMENT ON COLUMN {ident(v.schema, v.name, c)} IS {literal(text)}")
            for c, text in v.column_comments
        ]
        if v.owner is not None:  # made again: owned as before (diff/owners.py)
            name = f"{_keyword(v)} {ident(v.schema, v.name)}"
            out.append(Statement(f"ALTER {name} OWNER TO {ident(v.owner)}"))
        return out

    def provides(self) -> frozenset[Address]:
        # the relation too: indexes and reading views name it whatever kind it is
        return frozenset({self.view.address, self.view.relation_address})

    def describe(self) -> str:
        return "materialized view" if self.view.materialized else "view"


@twin_of(CreateView)
@dataclass(frozen=True, slots=True)
class DropView(DropWhole):
    view: View
    deps: frozenset[Address] = frozenset()
    retaken: bool = False  # a table of the plan takes its name (a second run leaves that one)

    def statements(self) -> list[Statement]:
        # RESTRICT: views reading this one were dropped by their own change before it.
        name = ident(self.view.schema, self.view.name)
        drop = f"DROP {_keyword(self.view)} IF EXISTS {name} RESTRICT"
        if self.retaken:
            drop = drop_if_kind(drop, name, "m" if self.view.materialized else "v")
        return [Statement(drop)]

    def describe(self) -> str:
        return "materialized view" if self.view.materialized else "view"


@dataclass(frozen=True, slots=True)
class SetViewOptions(Change):
    """ALTER [MATERIALIZED] VIEW … RESET the options that go, SET those that come or change."""

    view: View
    old: tuple[str, ...]
    new: tuple[str, ...]
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.view.address

    def statements(self) -> list[Statement]:
        target = f"ALTER {_keyword(self.view)} {ident(self.view.schema, self.view.name)}"
        names = {o.partition("=")[0] for o in self.new}
        gone = sorted({o.partition("=")[0] for o in self.old} - names)
        out = [Statement(f"{target} RESET ({', '.join(gone)})")] if gone else []
        changed = [o for o in self.new if o not in self.old]
        if changed:
            out.append(Statement(f"{target} SET ({', '.join(changed)})"))
        return out

    def reverse(self) -> Change:
        return SetViewOptions(self.view, self.new, self.old)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        return frozenset({self.view.address})

    def details(self) -> list[dict]:
        return [{"attribute": "options", "old": list(self.old), "new": list(self.new)}]

    def describe(self) -> str:
        return "options " + (", ".join(self.new) or "none")
