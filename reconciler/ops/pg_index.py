"""Index changes. A changed index is a drop and a create of the same address."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.pg import Index
from reconciler.ops.base import Action, Change, Hazard, Statement
from reconciler.ops.sqltext import ident, index_def, literal


def index_deps(ix: Index, extra: frozenset[Address] = frozenset()) -> frozenset[Address]:
    deps = {ix.table_address, Address.of("pg", "schema", ix.schema)}
    deps |= {Address.of("pg", "column", ix.schema, ix.table, c) for c in ix.columns_used()}
    return frozenset(deps | extra)


@dataclass(frozen=True, slots=True)
class CreateIndex(Change):
    index: Index
    deps: frozenset[Address] = frozenset()
    new_table: bool = False  # on a table created by the same plan: blocks nobody
    action = Action.CREATE

    @property
    def address(self) -> Address:
        return self.index.address

    def statements(self) -> list[Statement]:
        out = [Statement(index_def(self.index))]
        if self.index.comment is not None:
            out.append(
                Statement(
                    f"COMMENT ON INDEX {ident(self.index.schema, self.index.name)} IS "
                    f"{literal(self.index.comment)}"
                )
            )
        return out

    def reverse(self) -> Change:
        return DropIndex(self.index, self.deps)

    def depends_on(self) -> frozenset[Address]:
        return index_deps(self.index, self.deps)

    def hazards(self) -> tuple[Hazard, ...]:
        if self.new_table:
            return ()
        return (
            Hazard(
                "share_lock",
                "CREATE INDEX blocks writes to the table while it builds",
            ),
        )

    def describe(self) -> str:
        kind = "unique index" if self.index.unique else "index"
        return f"{kind} on {self.index.table}"


@dataclass(frozen=True, slots=True)
class DropIndex(Change):
    index: Index
    deps: frozenset[Address] = frozenset()
    action = Action.DROP

    @property
    def address(self) -> Address:
        return self.index.address

    def statements(self) -> list[Statement]:
        return [Statement(f"DROP INDEX IF EXISTS {ident(self.index.schema, self.index.name)}")]

    def reverse(self) -> Change:
        return CreateIndex(self.index, self.deps)

    def depends_on(self) -> frozenset[Address]:
        return index_deps(self.index, self.deps)

    def describe(self) -> str:
        return f"index on {self.index.table}"
