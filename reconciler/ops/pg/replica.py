"""A table's replica identity: what its row changes carry for logical replication.

Its state is one word, `default | full | nothing`, or `index <name>` (USING INDEX: a unique
index or key of the table). Two changes, each at the address pg.replica_identity.<s>.<t>:
- SetReplicaIdentity (alter) puts the table in a state; it runs after the index it names is
  built (which is then built in the main transaction, not concurrently after it);
- ReleaseReplicaIdentity (drop) takes it off an index that this plan drops or rebuilds, back
  to DEFAULT, before that index goes: Postgres keeps a dropped replica index's table at "using
  an index" with none (rows then carry no old key), and a rebuilt index is not the identity.
  Its reverse sets the index again once the down file has built the index back.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.pg import Table
from reconciler.ops.base import Action, Change, Hazard, Statement, brief_lock
from reconciler.sql.render import ident

DEFAULT = "default"


def replica_identity(t: Table | None) -> str:
    """The table's state in the words above (`default` for no table)."""
    if t is None:
        return DEFAULT
    if t.replica_identity == "index":
        return f"index {t.replica_identity_index}"
    return t.replica_identity


def replica_index(state: str) -> str | None:
    """The index a state names, if one."""
    return state.removeprefix("index ") if state.startswith("index ") else None


def replica_identity_sql(schema: str, table: str, state: str, *, if_exists: bool = True) -> str:
    index = replica_index(state)
    how = f"USING INDEX {ident(index)}" if index is not None else state.upper()
    # IF EXISTS: the file run again after the table was dropped, or before it exists
    guard = " IF EXISTS" if if_exists else ""
    return f"ALTER TABLE{guard} {ident(schema, table)} REPLICA IDENTITY {how}"


def replica_address(schema: str, table: str) -> Address:
    return Address.of("pg", "replica_identity", schema, table)


@dataclass(frozen=True, slots=True)
class SetReplicaIdentity(Change):
    schema: str
    table: str
    old: str
    new: str
    deps: frozenset[Address] = frozenset()  # the table, and the index `new` names
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return replica_address(self.schema, self.table)

    def statements(self) -> list[Statement]:
        return [Statement(replica_identity_sql(self.schema, self.table, self.new))]

    def reverse(self) -> Change:
        return SetReplicaIdentity(self.schema, self.table, self.new, self.old, self.deps)

    def depends_on(self) -> frozenset[Address]:
        return self.deps

    def hazards(self) -> tuple[Hazard, ...]:
        return (brief_lock(f"{self.schema}.{self.table}"),)

    def details(self) -> list[dict]:
        return [{"attribute": "replica_identity", "old": self.old, "new": self.new}]

    def describe(self) -> str:
        return f"replica identity {self.old} → {self.new}"


@dataclass(frozen=True, slots=True)
class ReleaseReplicaIdentity(Change):
    schema: str
    table: str
    old: str  # index <name>
    deps: frozenset[Address] = frozenset()  # the table, and the index `old` names
    action = Action.DROP

    @property
    def address(self) -> Address:
        return replica_address(self.schema, self.table)

    def statements(self) -> list[Statement]:
        return [Statement(replica_identity_sql(self.schema, self.table, DEFAULT))]

    def reverse(self) -> Change:
        return SetReplicaIdentity(self.schema, self.table, DEFAULT, self.old, self.deps)

    def depends_on(self) -> frozenset[Address]:
        return self.deps

    def hazards(self) -> tuple[Hazard, ...]:
        return (brief_lock(f"{self.schema}.{self.table}"),)

    def details(self) -> list[dict]:
        return [{"attribute": "replica_identity", "old": self.old, "new": DEFAULT}]

    def describe(self) -> str:
        return f"replica identity {self.old} → {DEFAULT}, before the index goes"
