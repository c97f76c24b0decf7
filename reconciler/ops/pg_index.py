"""Index changes. A changed index is a drop and a create of the same address."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.pg import Index
from reconciler.ops.base import ONLINE, Action, Change, Hazard, Statement, brief_lock
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
    # On a table that exists and has rows to index: built CONCURRENTLY once the apply's
    # transaction has committed, so writes go on while it builds.
    online: bool = False
    action = Action.CREATE

    @property
    def address(self) -> Address:
        return self.index.address

    def statements(self) -> list[Statement]:
        ix = self.index
        if self.online:
            # A build that fails leaves an invalid index behind, which IF NOT EXISTS would
            # then take for the finished one: it is dropped before a retry.
            drop = f"DROP INDEX CONCURRENTLY IF EXISTS {ident(ix.schema, ix.name)}"
            out = [Statement(index_def(ix, concurrently=True), phase=ONLINE, cleanup=drop)]
        else:
            out = [Statement(index_def(ix))]
        if ix.comment is not None:
            comment = f"COMMENT ON INDEX {ident(ix.schema, ix.name)} IS {literal(ix.comment)}"
            out.append(Statement(comment, phase=out[0].phase))
        return out

    def reverse(self) -> Change:
        return DropIndex(self.index, self.deps)

    def depends_on(self) -> frozenset[Address]:
        return index_deps(self.index, self.deps)

    def hazards(self) -> tuple[Hazard, ...]:
        if self.new_table:
            return ()
        if self.online:
            what = "fails on duplicate rows" if self.index.unique else "cannot fail on data"
            return (
                Hazard(
                    "concurrent_build",
                    "built CONCURRENTLY after the transaction commits: writes go on, it takes "
                    f"two table scans and {what}; a failed build is dropped and the plan undone",
                ),
            )
        return (Hazard("share_lock", "CREATE INDEX blocks writes to the table while it builds"),)

    def describe(self) -> str:
        kind = "unique index" if self.index.unique else "index"
        how = " (built concurrently)" if self.online else ""
        return f"{kind} on {self.index.table}{how}"


@dataclass(frozen=True, slots=True)
class DropIndex(Change):
    index: Index
    deps: frozenset[Address] = frozenset()
    # On a table that stays: dropped CONCURRENTLY after the transaction commits (no lock
    # that blocks reads or writes).
    online: bool = False
    action = Action.DROP

    @property
    def address(self) -> Address:
        return self.index.address

    def statements(self) -> list[Statement]:
        name = ident(self.index.schema, self.index.name)
        if self.online:
            return [Statement(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", phase=ONLINE)]
        return [Statement(f"DROP INDEX IF EXISTS {name}")]

    def hazards(self) -> tuple[Hazard, ...]:
        return () if self.online else (brief_lock(self.index.table),)

    def reverse(self) -> Change:
        return CreateIndex(self.index, self.deps)

    def depends_on(self) -> frozenset[Address]:
        return index_deps(self.index, self.deps)

    def describe(self) -> str:
        how = " (dropped concurrently)" if self.online else ""
        return f"index on {self.index.table}{how}"
