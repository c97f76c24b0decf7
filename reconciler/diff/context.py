"""What every comparator needs besides the two snapshots: dependency lookups.

Dependencies are read from the model: a column depends on the enum type it uses; anything
that may use an extension's types, functions or operator classes depends on the extensions
and on the declared functions (a catalog-free planner cannot tell which one, so it depends on
all of them); a foreign key
depends on the unique key it references.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.model.address import Address
from reconciler.model.names import qualified
from reconciler.model.pg import Column, ForeignKey, Table
from reconciler.model.snapshot import PgSnapshot


@dataclass(frozen=True, slots=True)
class Trash:
    """Which drops keep their data (ops/pg_trash.py): tables and columns of `tables`."""

    token: str  # makes trash names unique per plan; the same inputs give the same names
    tables: frozenset[tuple[str, str]]  # (schema, table) whose drops are quarantined


@dataclass
class DiffContext:
    desired: PgSnapshot
    live: PgSnapshot
    trash: Trash | None = None
    _enum_by_type: dict[str, Address] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for snap in (self.live, self.desired):
            for (schema, name), e in snap.enums.items():
                self._enum_by_type[qualified(schema, name)] = e.address
        exts = {*self.desired.extensions, *self.live.extensions}
        self.only_extension_deps = frozenset(Address.of("pg", "extension", e) for e in exts)
        # any definition may name a collation (a column's, an index's, a COLLATE in a view)
        colls = {c.address for s in (self.desired, self.live) for c in s.collations.values()}
        self.only_extension_deps |= colls
        self.enum_addresses = frozenset(self._enum_by_type.values())
        # What any expression may call: the extensions' functions, the plan's own routines and
        # sequences (nextval).
        snaps = (self.desired, self.live)
        routines = {f.address for s in snaps for f in s.functions.values()}
        routines |= {q.address for s in snaps for q in s.sequences.values()}
        self.extension_deps = self.only_extension_deps | routines
        # Columns may be of a domain type too (type_deps); a domain is not an enum (is_enum).
        self._type_by_name = dict(self._enum_by_type)
        for snap in snaps:
            for (schema, name), d in snap.domains.items():
                self._type_by_name[qualified(schema, name)] = d.address
            for (schema, name), ct in snap.composites.items():
                self._type_by_name[qualified(schema, name)] = ct.address

    def type_address(self, type_text: str) -> Address | None:
        """The enum, domain or composite type a column or attribute type names, if one."""
        return self._type_by_name.get(type_text.removesuffix("[]"))

    def online(self, schema: str, table: str) -> bool:
        """Whether changes on this table are made online-safe: it exists already (it may hold
        rows and serve writes) and is a plain table (Postgres builds no index concurrently on a
        partitioned one, nor adds a foreign key to it NOT VALID)."""
        old, new = self.live.tables.get((schema, table)), self.desired.tables.get((schema, table))
        return all(
            t is not None and t.partition_by is None and t.partition_of is None for t in (old, new)
        )

    def quarantined(self, schema: str, table: str) -> str | None:
        """The trash token when drops on this table keep their data, else None."""
        if self.trash is None or (schema, table) not in self.trash.tables:
            return None
        return self.trash.token

    def is_enum(self, type_text: str) -> bool:
        return type_text.removesuffix("[]") in self._enum_by_type

    def type_deps(self, *columns: Column) -> frozenset[Address]:
        deps = set(self.extension_deps)
        for c in columns:
            base = c.type.removesuffix("[]")
            if base in self._type_by_name:
                deps.add(self._type_by_name[base])
        return frozenset(deps)

    def table_deps(self, t: Table) -> frozenset[Address]:
        parents = {Address.of("pg", "table", *p) for p in t.inherits}
        if t.partition_of is not None:
            parents.add(Address.of("pg", "table", *t.partition_of))
        return self.type_deps(*t.columns) | {Address.of("pg", "schema", t.schema)} | parents

    @staticmethod
    def refs(text: str | None) -> tuple[str, ...]:
        """Column names an expression reads (none for an expression that does not parse)."""
        if not text:
            return ()
        from reconciler.desired.sqltext import column_refs  # pglast: only when a change needs it

        try:
            return column_refs(text)
        except Exception:  # live texts always parse; a bad one only loses an ordering hint
            return ()

    def expression_deps(self, schema: str, table: str, *texts: str | None) -> frozenset[Address]:
        """Columns of the table that expressions (generated, check, index) reference."""
        names = {n for text in texts for n in self.refs(text)}
        return frozenset(Address.of("pg", "column", schema, table, n) for n in names)

    def ref_key(self, fk: ForeignKey, snap: PgSnapshot) -> Address | None:
        """The unique constraint or unique index the foreign key leans on, if known."""
        target = snap.tables.get((fk.ref_schema, fk.ref_table))
        if target is None:
            return None
        wanted = set(fk.ref_columns)
        for k in (target.primary_key, *target.uniques):
            if k is not None and set(k.columns) == wanted:
                return target.constraint_address(k.name)
        for ix in snap.indexes_of(fk.ref_schema, fk.ref_table):
            cols = {e.column for e in ix.elements}
            if ix.unique and ix.where is None and cols == wanted:
                return ix.address
        return None
