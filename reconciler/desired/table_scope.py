"""A table being built, as the parts of its spec built apart see it (columns.py,
partitions.py, triggers.py): its context, spec, names and columns, and the checks they share.

Owns: `TableScope` — storage parameters (`options:`), column names (its own and inherited),
the "is a column of the table" check, per-table constraint names and column collations.
Must not: build the table itself (tables.py's TableBuilder, a TableScope, does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.desired.context import Context
from reconciler.model.pg import Column
from reconciler.project.yamlload import Where
from reconciler.sql import fragments as sqltext

if TYPE_CHECKING:
    from reconciler.desired.spec import FileSpec, ViewSpec
    from reconciler.desired.spec_table import TableSpec

_OPTION_NAME = re.compile(r"(toast\.)?[a-z_][a-z0-9_]*\Z")
_OPTION_VALUE = re.compile(r"[A-Za-z0-9_.+-]+\Z")


class TableScope:
    def __init__(self, ctx: Context, spec: TableSpec | FileSpec | ViewSpec, where: Where) -> None:
        self.ctx = ctx
        self.spec = spec
        self.where = where
        self.schema = self.name = ""
        self.columns_by_name: dict[str, Column] = {}
        self.inherited: set[str] = set()
        self.constraint_names: dict[str, str] = {}  # name → source

    def options(self, given: dict, where: Where, *, toast: bool = True) -> tuple[str, ...]:
        """Storage parameters, `name=value` texts spliced into WITH (…) and SET (…): a plain
        name (a table's `toast.` before it for its TOAST table's) and a plain value each."""
        pairs = []
        for key, value in given.items():
            ow = where.sub("options", key)
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            if not _OPTION_NAME.match(key) or (not toast and key.startswith("toast.")):
                self.ctx.report(ow, f"'{key}' is not a storage parameter name")
            elif not _OPTION_VALUE.match(text):
                self.ctx.report(ow, f"'{text}' is not a plain storage parameter value")
            else:
                pairs.append(f"{key}={text}")
        return tuple(pairs)

    def collation(self, text: str | None, where: Where) -> str | None:
        if text is None:
            return None
        try:
            return sqltext.canonical_collation(text, self.ctx.known_schemas)
        except sqltext.SqlTextError as exc:
            self.ctx.report(where, str(exc))
            return None

    def column_names(self) -> list[str]:
        """Its own columns and those its parents give it."""
        return [*self.columns_by_name, *sorted(self.inherited)]

    def exist(self, cols: Sequence[str], where: Where, what: str, *, unique: bool = False) -> None:
        for j, col in enumerate(cols):
            if col not in self.columns_by_name and col not in self.inherited:
                self.ctx.report(where.sub(j), f"{what} column '{col}' is not a column of the table")
            elif unique and list(cols).index(col) != j:
                self.ctx.report(where.sub(j), f"column '{col}' appears twice in the {what}")

    def constraint_name(self, given: str | None, default: str, where: Where) -> str:
        """Constraint names are unique per table; colliding defaults need an explicit name."""
        name = given or default
        at_ = where.sub("name") if given else where
        if self.ctx.name_ok(name, at_, default=given is None) and name in self.constraint_names:
            hint = "" if given else "; give one of them a `name:`"
            first = self.constraint_names[name]
            message = f"constraint name '{name}' is used twice in this table (first at {first})"
            self.ctx.report(at_, message + hint)
        self.constraint_names.setdefault(name, where.source)
        return name
