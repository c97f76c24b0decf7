"""A table's parents: a table attached as a partition in place (AttachTable, whose partition's
own index the parent's may take over: AdoptIndex), a partition moved to another parent or
bound (SetPartition), and the parents a table inherits from (SetInherits).

Owns: the ATTACH / DETACH PARTITION and INHERIT / NO INHERIT changes, and the `attachment`
address their index attachments follow. Must not: make the partition's own indexes or NOT
NULL match its parent's (ops/pg/partition.py), or create, drop or rename tables (table.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.model.address import Address
from reconciler.ops.base import ACCESS_EXCLUSIVE, IRREVERSIBLE, Action, Change, Hazard, Statement
from reconciler.sql.render import dollar_quote, guarded, ident, literal


def attachment(schema: str, table: str) -> Address:
    """What a table becoming a partition provides: its indexes' attachments come after."""
    return Address.of("pg", "attachment", schema, table)


@dataclass(frozen=True, slots=True)
class AttachTable(Change):
    """A table becomes a partition in place: ATTACH PARTITION (the server requires the parent's
    columns exactly, checks every row against the bound, attaches the table's matching indexes
    and makes the rest of the parent's indexes, keys and foreign keys on it). The way back is
    DETACH PARTITION, then dropping what attaching made: every key, foreign key and index of
    the table not in `keep` (its own before)."""

    schema: str
    table: str
    parent: tuple[str, str]
    bound: str
    keep: tuple[str, ...] = ()  # names of the table's own keys, foreign keys and indexes
    detach: bool = False  # the reverse: DETACH, then drop what attaching made
    deps: frozenset[Address] = frozenset()  # its columns: changed to the parent's form first
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)

    def statements(self) -> list[Statement]:
        t, parent = ident(self.schema, self.table), ident(*self.parent)
        if not self.detach:
            attach = f"ALTER TABLE {parent} ATTACH PARTITION {t} {self.bound}"
            return [Statement(guarded(attach, "wrong_object_type", "duplicate_table"))]
        keep = ", ".join(literal(n) for n in self.keep)  # none: ARRAY[]::name[], not NULL
        body = (
            "DECLARE r record; BEGIN "
            "IF EXISTS (SELECT FROM pg_catalog.pg_inherits "
            f"WHERE inhrelid = {literal(t)}::regclass) THEN "
            f"ALTER TABLE {parent} DETACH PARTITION {t}; END IF; "
            "FOR r IN SELECT conname FROM pg_catalog.pg_constraint "
            f"WHERE conrelid = {literal(t)}::regclass AND contype IN ('p', 'u', 'x', 'f') "
            # a foreign key to a partitioned table has one more per partition it references,
            # which its drop takes along
            "AND conparentid = 0 "
            f"AND conname <> ALL (ARRAY[{keep}]::name[]) ORDER BY contype = 'f' DESC LOOP "
            "EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', "
            f"{literal(t)}, r.conname); "
            "END LOOP; "
            "FOR r IN SELECT indexrelid::regclass AS ix FROM pg_catalog.pg_index AS x "
            "JOIN pg_catalog.pg_class AS c ON c.oid = x.indexrelid "
            f"WHERE x.indrelid = {literal(t)}::regclass "
            f"AND c.relname <> ALL (ARRAY[{keep}]::name[]) LOOP "
            "EXECUTE format('DROP INDEX %s', r.ix); END LOOP; "
            "END"
        )
        return [Statement(f"DO {dollar_quote(body)}")]

    def reverse(self) -> Change:
        return replace(self, detach=not self.detach)

    def hazards(self) -> tuple[Hazard, ...]:
        what = (
            "detaching locks the parent; what attaching made on the table is dropped"
            if self.detach
            else "attaching scans the table's rows against the bound under a lock, and builds "
            "the parent's indexes it has no match for"
        )
        return (Hazard(ACCESS_EXCLUSIVE, what),)

    def provides(self) -> frozenset[Address]:
        # not the table: its columns' changes, which need the table, come first (`deps`)
        return frozenset({attachment(self.schema, self.table)})

    def depends_on(self) -> frozenset[Address]:
        return frozenset({self.address, Address.of("pg", "table", *self.parent), *self.deps})

    def details(self) -> list[dict]:
        old, new = (list(self.parent), None) if self.detach else (None, list(self.parent))
        return [{"attribute": "partition_of", "old": old, "new": new}]

    def describe(self) -> str:
        if self.detach:
            return f"detached from {'.'.join(self.parent)}"
        return f"attached to {'.'.join(self.parent)} {self.bound}"


@dataclass(frozen=True, slots=True)
class AdoptIndex(Change):
    """The partition's own index or key `name` that the parent's new index takes over (Postgres
    attaches a matching one): no SQL; its way back builds it again on its own, since dropping
    the parent's index in a rollback takes it along. Goes first (a drop of no SQL)."""

    schema: str
    table: str
    name: str
    rebuild_sql: str
    restore: bool = False  # the reverse: build it again
    action = Action.DROP

    @property
    def address(self) -> Address:
        return Address.of("pg", "index", self.schema, self.name)

    def statements(self) -> list[Statement]:
        return [Statement(self.rebuild_sql)] if self.restore else []

    def reverse(self) -> Change:
        return _Readopt(self.schema, self.table, self.name, self.rebuild_sql)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def describe(self) -> str:
        return f"index of {self.table} taken over by its parent's index (no SQL)"


@dataclass(frozen=True, slots=True)
class _Readopt(Change):
    """AdoptIndex's way back: the partition's index or key built again on its own."""

    schema: str
    table: str
    name: str
    rebuild_sql: str
    action = Action.CREATE

    @property
    def address(self) -> Address:
        return Address.of("pg", "index", self.schema, self.name)

    def statements(self) -> list[Statement]:
        return [Statement(self.rebuild_sql)]

    def reverse(self) -> Change:
        return AdoptIndex(self.schema, self.table, self.name, self.rebuild_sql)

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def describe(self) -> str:
        return f"index of {self.table} on its own again"


def detach_sql(parent: tuple[str, str], table: tuple[str, str]) -> str:
    """DETACH PARTITION, then dropping the foreign keys the partition had from its parent: the
    server keeps them as the table's own, still referencing what the old parent's did (a new
    parent makes its own; left, they hold the old referenced table's index). Nothing to do on
    a second run."""
    p, t = ident(*parent), ident(*table)
    body = (
        "DECLARE fks name[]; BEGIN "
        "IF NOT EXISTS (SELECT FROM pg_catalog.pg_inherits WHERE inhrelid = "
        f"pg_catalog.to_regclass({literal(t)}) AND inhparent = "
        f"pg_catalog.to_regclass({literal(p)})) THEN RETURN; END IF; "
        "SELECT array_agg(conname) INTO fks FROM pg_catalog.pg_constraint "
        f"WHERE conrelid = {literal(t)}::regclass AND contype = 'f' AND conparentid <> 0; "
        f"ALTER TABLE {p} DETACH PARTITION {t}; "
        "FOR n IN 1 .. coalesce(array_length(fks, 1), 0) LOOP "
        f"EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', {literal(t)}, fks[n]); "
        "END LOOP; END"
    )
    return f"DO {dollar_quote(body)}"


@dataclass(frozen=True, slots=True)
class SetPartition(Change):
    """A partition's parent or bound: DETACH PARTITION, then ATTACH PARTITION with the new
    bound (the server checks every row against it, and against a default partition's)."""

    schema: str
    table: str
    old_parent: tuple[str, str]
    old_bound: str
    new_parent: tuple[str, str]
    new_bound: str
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)

    def statements(self) -> list[Statement]:
        t = ident(self.schema, self.table)
        return [
            Statement(detach_sql(self.old_parent, (self.schema, self.table))),
            Statement(
                guarded(
                    f"ALTER TABLE {ident(*self.new_parent)} ATTACH PARTITION {t} {self.new_bound}",
                    "wrong_object_type",
                )
            ),
        ]

    def reverse(self) -> Change:
        return SetPartition(
            self.schema,
            self.table,
            self.new_parent,
            self.new_bound,
            self.old_parent,
            self.old_bound,
        )

    def hazards(self) -> tuple[Hazard, ...]:
        return (
            Hazard(
                ACCESS_EXCLUSIVE,
                "detaching locks the parent table; attaching scans the partition's rows "
                "against the new bound (and a default partition's against it)",
            ),
        )

    def provides(self) -> frozenset[Address]:
        return frozenset({self.address})  # its indexes attach to the new parent's after it

    def depends_on(self) -> frozenset[Address]:
        parents = {Address.of("pg", "table", *p) for p in (self.old_parent, self.new_parent)}
        return frozenset({self.address, *parents})

    def details(self) -> list[dict]:
        return [
            {
                "attribute": "partition_of",
                "old": list(self.old_parent),
                "new": list(self.new_parent),
            },
            {"attribute": "bound", "old": self.old_bound, "new": self.new_bound},
        ]

    def describe(self) -> str:
        return f"partition of {'.'.join(self.new_parent)} {self.new_bound}"


@dataclass(frozen=True, slots=True)
class SetInherits(Change):
    """The parents a table inherits from: ALTER TABLE … INHERIT / NO INHERIT each one that
    comes or goes (a new parent must have every column the child reads from it)."""

    schema: str
    table: str
    old: tuple[tuple[str, str], ...]
    new: tuple[tuple[str, str], ...]
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)

    def statements(self) -> list[Statement]:
        t = ident(self.schema, self.table)
        out = [
            guarded(f"ALTER TABLE {t} NO INHERIT {ident(*p)}", "undefined_table")
            for p in self.old
            if p not in self.new
        ]
        out += [
            guarded(f"ALTER TABLE {t} INHERIT {ident(*p)}", "duplicate_table")
            for p in self.new
            if p not in self.old
        ]
        return [Statement(text) for text in out]

    def reverse(self) -> Change:
        return SetInherits(self.schema, self.table, self.new, self.old)

    def hazards(self) -> tuple[Hazard, ...]:
        if not [p for p in self.old if p not in self.new]:
            return ()
        return (
            Hazard(
                IRREVERSIBLE,
                "columns inherited only from a parent it leaves become the table's own; a "
                "rollback attaches the parent again but Postgres keeps them declared locally",
            ),
        )

    def provides(self) -> frozenset[Address]:
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        parents = {Address.of("pg", "table", *p) for p in (*self.old, *self.new)}
        return frozenset({self.address, *parents})

    def details(self) -> list[dict]:
        return [{"attribute": "inherits", "old": list(self.old), "new": list(self.new)}]

    def describe(self) -> str:
        return "inherits " + (", ".join(".".join(p) for p in self.new) or "nothing")
