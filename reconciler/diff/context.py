"""What every comparator needs besides the two snapshots: dependency lookups.

Dependencies are read from the model: a column depends on the enum type it uses; anything
that may use an extension's types, functions or operator classes depends on the extensions
and on the declared functions (a catalog-free planner cannot tell which one, so it depends on
all of them); a foreign key
depends on the unique key it references.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.connect import APPLY_SEARCH_PATH
from reconciler.diff.owned_sequences import moved
from reconciler.diff.rebuilds import rebuilt_tables
from reconciler.model.address import Address
from reconciler.model.names import qualified
from reconciler.model.pg import Column, ForeignKey, Table
from reconciler.model.pg_objects import Function
from reconciler.model.snapshot import PgSnapshot
from reconciler.sql import fragments as sqltext
from reconciler.sql import names as sqlnames
from reconciler.sql.expressions import column_refs

# Where a bare type name is looked up at apply (its search_path, apply/pg/executor.py).
_APPLY_SCHEMA = "public"


@dataclass(frozen=True, slots=True)
class Trash:
    """Which drops keep their data (ops/pg/trash.py): tables and columns of `tables`."""

    token: str  # makes trash names unique per plan; the same inputs give the same names
    tables: frozenset[tuple[str, str]]  # (schema, table) whose drops are quarantined


@dataclass
class DiffContext:
    desired: PgSnapshot
    live: PgSnapshot
    trash: Trash | None = None
    _enum_by_type: dict[str, Address] = field(default_factory=dict)
    _needers: dict[tuple[str, str], frozenset[Address]] | None = None
    carried: dict[tuple[str, str], tuple[str, str]] | None = None  # diff/carry.py, once
    # (schema, partitioned table, index name) → the partitions' keys attached to that index
    attached: dict[tuple[str, str, str], frozenset[Address]] | None = None  # partitions.py

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
        # What any expression may call: the extensions' functions, the plan's own routines,
        # aggregates and sequences (nextval).
        snaps = (self.desired, self.live)
        routines = {f.address for s in snaps for f in s.functions.values()}
        routines |= {q.address for s in snaps for q in s.sequences.values()}
        routines |= {a.address for s in snaps for a in s.aggregates.values()}
        self.extension_deps = self.only_extension_deps | routines
        self.moved_sequences = moved(self.desired, self.live)  # sequences changing owner
        self.rebuilt = rebuilt_tables(self.desired, self.live)  # (schema, table) → why
        # Columns may be of a domain type too (type_deps); a domain is not an enum (is_enum).
        self._type_by_name = dict(self._enum_by_type)
        for snap in snaps:
            for (schema, name), d in snap.domains.items():
                self._type_by_name[qualified(schema, name)] = d.address
            for (schema, name), ct in snap.composites.items():
                self._type_by_name[qualified(schema, name)] = ct.address

    # --- routines: what they use, and who may call them -------------------------------------

    def function_deps(self, f: Function) -> frozenset[Address]:
        """What a routine needs first (created after it, dropped before it): its schema, the
        extensions and the types a signature may name (every enum, domain and composite
        type: over-approximated), the tables and views whose row type its signature names,
        and what it uses as pg_depend records it (an SQL-standard body's routines, relations,
        columns and types). An SQL-standard body whose uses are unknown (the server refused
        its probe) needs every table and view, so it is created after them."""
        # the types its signature may name (a name in its text: perhaps one, never fewer); a
        # domain whose check calls the routine is then free to come after it
        said = f"{f.arguments} {f.returns or ''}".lower()
        types = [
            *(e for snap in (self.desired, self.live) for e in snap.enums.values()),
            *(d for snap in (self.desired, self.live) for d in snap.domains.values()),
            *(t for snap in (self.desired, self.live) for t in snap.composites.values()),
        ]
        deps = {
            Address.of("pg", "schema", f.schema),
            *self.only_extension_deps,
            *(t.address for t in types if t.name.lower() in said),
        }
        for schema, name in self._row_types(f):
            deps |= self._relation_addresses(schema, name)
        uses = self._uses(f)
        if uses is None:
            for snap in (self.desired, self.live):
                for schema, name in (*snap.tables, *snap.views):
                    deps |= self._relation_addresses(schema, name)
        for parts in uses or ():
            deps |= self.use_addresses(parts)
        deps.discard(f.address)
        return frozenset(deps)

    def callable_from(
        self, schema: str, relation: str, texts: tuple[str, ...] | None = None
    ) -> frozenset[Address]:
        """What an expression on this table or view may call (extension_deps), less the
        routines that need the relation themselves: those can only come after it. With
        `texts` (the expressions themselves), only the routines and sequences they name."""
        key = (schema, relation)
        needing = self._needing_relation().get(key, frozenset())
        found = self.extension_deps - needing if needing else self.extension_deps
        if texts is None:
            return found
        said = " ".join(texts).lower()  # a name inside a text: perhaps a call (never fewer)
        return frozenset(a for a in found if a.kind == "extension" or a.parts[3].lower() in said)

    def _uses(self, f: Function) -> tuple[tuple[str, ...], ...] | None:
        if f.uses is not None:
            return f.uses
        live = self.live.functions.get((f.schema, f.name, f.types))
        if live is not None and live == f:
            return live.uses  # the same routine binds to the same objects
        return None if f.sql_body else ()

    def _row_types(self, f: Function) -> set[tuple[str, str]]:
        """(schema, name) of the tables and views whose row type the signature names."""
        out = set()
        for text in sqlnames.function_types(f):
            try:
                names = sqltext.type_names(text.removesuffix("[]"))
            except sqltext.SqlTextError:
                continue
            key = tuple(names) if len(names) == 2 else (_APPLY_SCHEMA, names[-1])
            for snap in (self.desired, self.live):
                if key in snap.tables or key in snap.views:
                    out.add((key[0], key[1]))
        return out

    def _relation_addresses(self, schema: str, name: str) -> set[Address]:
        out = {Address.of("pg", "table", schema, name)}
        for snap in (self.desired, self.live):
            view = snap.views.get((schema, name))
            if view is not None:
                out.add(view.address)
        return out

    def use_addresses(self, parts: tuple[str, ...]) -> set[Address]:
        kind, rest = parts[0], parts[1:]
        if kind in ("view", "materialized_view"):
            return {Address.of("pg", kind, *rest), Address.of("pg", "table", *rest)}
        if kind == "column":
            return {Address.of("pg", "column", *rest), Address.of("pg", "table", *rest[:2])}
        return {Address.of("pg", kind, *rest)}

    def _needing_relation(self) -> dict[tuple[str, str], frozenset[Address]]:
        """(schema, relation) → the routines that need it, directly or through the routines
        and views they use (computed once)."""
        if self._needers is not None:
            return self._needers
        direct: dict[Address, set[tuple[str, str]]] = {}  # a routine or view → relations
        calls: dict[Address, set[Address]] = {}
        everything = {k for s in (self.desired, self.live) for k in (*s.tables, *s.views)}
        for snap in (self.desired, self.live):
            for f in snap.functions.values():
                rels = direct.setdefault(f.address, set())
                called = calls.setdefault(f.address, set())
                for rel in self._row_types(f):  # a view's row type: what the view reads too
                    rels.add(rel)
                    called.add(Address.of("pg", "table", *rel))
                uses = self._uses(f)
                if uses is None:
                    rels |= everything
                for kind, *rest in uses or ():
                    if kind in ("table", "column", "view", "materialized_view"):
                        rels.add((rest[0], rest[1]))
                        called.add(Address.of("pg", "table", rest[0], rest[1]))
                    elif kind in ("function", "procedure"):
                        called.add(Address.of("pg", kind, *rest))
            for v in snap.views.values():
                key = v.relation_address
                direct.setdefault(key, set()).update((s, r) for s, r, _ in v.reads)
                calls.setdefault(key, set()).update(
                    Address.of("pg", "table", s, r) for s, r, _ in v.reads
                )
        # the routines a view calls: a live one's from pg_depend, a desired one's by the names
        # its query calls (every overload of such a name: an ordering hint only)
        for f in self.live.functions.values():
            for kind, *rest in f.used_by:
                if kind in ("view", "materialized_view"):
                    calls.setdefault(Address.of("pg", "table", *rest), set()).add(f.address)
        by_name: dict[tuple[str, str], set[Address]] = {}
        for snap in (self.desired, self.live):
            for f in snap.functions.values():
                by_name.setdefault((f.schema, f.name), set()).add(f.address)
        for v in self.desired.views.values():
            for schema, name in sqlnames.calls(v.query, query=True):
                called = by_name.get((schema or _APPLY_SCHEMA, name), set())
                calls.setdefault(v.relation_address, set()).update(called)
        needers: dict[tuple[str, str], set[Address]] = {}
        for f in {f.address for s in (self.desired, self.live) for f in s.functions.values()}:
            seen, todo, rels = {f}, [f], set()
            while todo:
                node = todo.pop()
                rels |= direct.get(node, set())
                for nxt in calls.get(node, ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            for rel in rels:
                needers.setdefault(rel, set()).add(f)
        self._needers = {k: frozenset(v) for k, v in needers.items()}
        return self._needers

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

    def type_deps(
        self,
        *columns: Column,
        on: tuple[str, str] | None = None,
        texts: tuple[str, ...] | None = None,
    ) -> frozenset[Address]:
        """`on`: the (schema, table) of the columns, whose routines that read it come after;
        `texts`: its expressions, when only what they name is needed (callable_from)."""
        deps = set(self.extension_deps if on is None else self.callable_from(*on, texts))
        for c in columns:
            base = c.type.removesuffix("[]")
            if base in self._type_by_name:
                deps.add(self._type_by_name[base])
        return frozenset(deps)

    def table_deps(self, t: Table) -> frozenset[Address]:
        parents = {Address.of("pg", "table", *p) for p in t.inherits}
        if t.partition_of is not None:
            parents.add(Address.of("pg", "table", *t.partition_of))
        texts = (
            *(c.default or "" for c in t.columns),
            *(c.generated or "" for c in t.columns),
            *(k.expression for k in t.checks),
        )
        own = self.type_deps(*t.columns, on=(t.schema, t.name), texts=texts)
        named = self.named_relations((t.schema, t.name), *texts)
        return own | named | {Address.of("pg", "schema", t.schema)} | parents

    def named_relations(self, own: tuple[str, str], *texts: str | None) -> frozenset[Address]:
        """The desired tables, views and sequences that texts name as a string
        (`'public.t'::regclass`, `nextval('s')`): the server looks them up when the text is
        stored, so they come first (`own`, the relation holding the texts, excepted)."""
        out = set()
        for text in texts:
            for literal in sqlnames.relation_literals(text) if text else ():
                try:
                    names = sqltext.type_names(literal)
                except sqltext.SqlTextError:
                    continue
                key = (names[-2], names[-1]) if len(names) > 1 else (APPLY_SEARCH_PATH, names[-1])
                for kind in ("tables", "views", "sequences"):
                    found = getattr(self.desired, kind).get(key)
                    if found is not None and key != own:
                        out.add(found.address)
        return frozenset(out)

    @staticmethod
    def refs(text: str | None) -> tuple[str, ...]:
        """Column names an expression reads. Every text met here parses (the desired state's
        were checked as it was read, the live state's are the server's own): one that does
        not is a bug, raised here rather than lost as a missing dependency (a wrong order)."""
        return column_refs(text) if text else ()

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
