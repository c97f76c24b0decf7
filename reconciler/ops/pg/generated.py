"""Generated columns: a change of a column's generation expression, or to or from being
generated (SetGenerated).

Owns: SetGenerated (DROP EXPRESSION, or the column dropped and added again).
Must not: change a column's other attributes (column_alter.py) or add, drop or rename one
(column.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg import Column
from reconciler.ops.base import (
    COLUMN_ORDER,
    DESTRUCTIVE,
    TABLE_REWRITE,
    Action,
    Change,
    Hazard,
    Statement,
)
from reconciler.ops.pg.column import AddColumn, DropColumn, describe_details, on_table
from reconciler.ops.pg.column_alter import AlterColumn
from reconciler.sql.render import ident


@dataclass(frozen=True, slots=True)
class SetGenerated(Change):
    """A change of a column's generation expression, or to/from being generated.

    generated → plain keeps the values (DROP EXPRESSION); every other transition drops and
    re-adds the column, which moves it to the end of the table: Postgres 15 can neither change
    an expression in place nor make an existing column generated.
    """

    schema: str
    table: str
    old: Column
    new: Column
    deps: frozenset[Address] = frozenset()
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.schema, self.table, self.new.name)

    def statements(self) -> list[Statement]:
        table = ident(self.schema, self.table)
        if self.old.generated is not None and self.new.generated is None:
            out = [
                Statement(
                    f"ALTER TABLE {table} ALTER COLUMN {ident(self.new.name)} "
                    "DROP EXPRESSION IF EXISTS"
                )
            ]
            out += AlterColumn(
                self.schema, self.table, dataclasses.replace(self.old, generated=None), self.new
            ).statements()
            return out
        drop = DropColumn(self.schema, self.table, self.old).statements()
        return drop + AddColumn(self.schema, self.table, self.new).statements()

    def reverse(self) -> Change:
        return SetGenerated(self.schema, self.table, self.new, self.old, self.deps)

    def depends_on(self) -> frozenset[Address]:
        return on_table(self.schema, self.table, self.deps)

    def hazards(self) -> tuple[Hazard, ...]:
        if self.new.generated is None:
            return ()
        back = ", and so does its rollback" if self.old.generated is not None else ""
        moved = Hazard(
            COLUMN_ORDER,
            f"{self.new.name} is dropped and added again: it goes to the end of {self.table}{back}",
        )
        if self.old.generated is None:
            return (
                Hazard(DESTRUCTIVE, f"replaces the values of {self.old.name} by computed ones"),
                moved,
            )
        return (
            Hazard(TABLE_REWRITE, f"re-adds {self.new.name} with its new expression, at the end"),
            moved,
        )

    def details(self) -> list[dict]:
        return attribute_changes(self.old, self.new, exclude=("name", "comment"))

    def describe(self) -> str:
        return describe_details(self.details())
