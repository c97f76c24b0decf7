"""How a table is stored: its persistence, logged (the default) or UNLOGGED (not written to the
WAL: faster writes, emptied after a crash, not replicated; SET LOGGED / SET UNLOGGED rewrite
the table, and the sequences its columns own go along), and its storage parameters
(`fillfactor=70`, `toast.autovacuum_enabled=false`: set and reset in place)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.ops.base import TABLE_REWRITE, Action, Change, Hazard, Statement, brief_lock
from reconciler.sql.render import ident


def persistence_address(schema: str, table: str) -> Address:
    """Names a table's persistence in the graph only (never a change's own address)."""
    return Address.of("pg", "table", schema, table, "persistence")


@dataclass(frozen=True, slots=True)
class SetLogged(Change):
    schema: str
    table: str
    unlogged: bool  # the new state
    # the persistence of the tables to change first (persistence_address): Postgres lets no
    # permanent table reference an unlogged one, so the referenced goes logged first, the
    # referencing unlogged first
    deps: frozenset[Address] = frozenset()
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)

    def statements(self) -> list[Statement]:
        how = "UNLOGGED" if self.unlogged else "LOGGED"
        return [Statement(f"ALTER TABLE IF EXISTS {ident(self.schema, self.table)} SET {how}")]

    def reverse(self) -> Change:
        return SetLogged(self.schema, self.table, not self.unlogged, self.deps)

    def provides(self) -> frozenset[Address]:
        return frozenset({persistence_address(self.schema, self.table)})

    def depends_on(self) -> frozenset[Address]:
        return frozenset({self.address}) | self.deps

    def hazards(self) -> tuple[Hazard, ...]:
        lost = "; from now on a crash empties it and replicas do not get its rows"
        return (
            Hazard(
                TABLE_REWRITE,
                f"rewrites {self.table} under an ACCESS EXCLUSIVE lock (reads and writes wait)"
                + (lost if self.unlogged else ""),
            ),
        )

    def details(self) -> list[dict]:
        return [{"attribute": "unlogged", "old": not self.unlogged, "new": self.unlogged}]

    def describe(self) -> str:
        return "set unlogged" if self.unlogged else "set logged"


def options_sql(target: str, old: tuple[str, ...], new: tuple[str, ...]) -> list[Statement]:
    names = [o.partition("=")[0] for o in old]
    out = [Statement(f"{target} RESET ({', '.join(names)})")] if names else []
    if new:
        out.append(Statement(f"{target} SET ({', '.join(new)})"))
    return out


@dataclass(frozen=True, slots=True)
class SetTableOptions(Change):
    """ALTER TABLE … RESET every parameter, then SET the new ones in their order: Postgres
    keeps them in the order they were set, which pg_dump shows and a rollback gives back."""

    schema: str
    table: str
    old: tuple[str, ...]  # `name=value`, in the catalog's order (model/pg.py Table.options)
    new: tuple[str, ...]
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)

    def statements(self) -> list[Statement]:
        target = f"ALTER TABLE IF EXISTS {ident(self.schema, self.table)}"
        return options_sql(target, self.old, self.new)

    def reverse(self) -> Change:
        return SetTableOptions(self.schema, self.table, self.new, self.old)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        return frozenset({self.address})

    def hazards(self) -> tuple[Hazard, ...]:
        return (brief_lock(f"{self.schema}.{self.table}", "SHARE UPDATE EXCLUSIVE"),)

    def details(self) -> list[dict]:
        return [{"attribute": "options", "old": list(self.old), "new": list(self.new)}]

    def describe(self) -> str:
        return "storage parameters " + (", ".join(self.new) or "none")


@dataclass(frozen=True, slots=True)
class SetIndexOptions(Change):
    """ALTER INDEX … RESET every parameter, then SET the new ones in their order (as a
    table's); a new fillfactor holds for pages written from then on. The index is a plain
    one, or that of a primary key or unique constraint (named as its key, and the change is
    then the key's). Both statements are no-ops when run again, and skipped without it."""

    schema: str
    table: str
    name: str  # the index's (a key's index has the key's name)
    old: tuple[str, ...]
    new: tuple[str, ...]
    key: bool = False  # the index of a key: the change is addressed to the constraint
    action = Action.ALTER

    @property
    def address(self) -> Address:
        if self.key:
            return Address.of("pg", "constraint", self.schema, self.table, self.name)
        return Address.of("pg", "index", self.schema, self.name)

    def statements(self) -> list[Statement]:
        target = f"ALTER INDEX IF EXISTS {ident(self.schema, self.name)}"
        return options_sql(target, self.old, self.new)

    def reverse(self) -> Change:
        return dataclasses.replace(self, old=self.new, new=self.old)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        return frozenset({self.address})

    def hazards(self) -> tuple[Hazard, ...]:
        return (brief_lock(f"{self.schema}.{self.table}", "SHARE UPDATE EXCLUSIVE"),)

    def details(self) -> list[dict]:
        return [{"attribute": "options", "old": list(self.old), "new": list(self.new)}]

    def describe(self) -> str:
        return "storage parameters " + (", ".join(self.new) or "none")
