"""Postgres object values, shared by desired state (YAML) and live state (catalog).

Invariants every producer (loader, introspector) must establish before comparing:
- names are the exact catalog names (case preserved, never quoted);
- `type` texts are canonical `format_type()` output with user types schema-qualified
  (introspection runs with an empty search_path);
- expressions are Postgres' deparsed text where the server was asked (see pipeline/canonical.py);
- optional values that equal the Postgres default are normalized to the default spelling
  (e.g. an index element's `nulls` is None when it is the default for its order).
Fields marked compare=False (source, renamed_from) never take part in a diff.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.model.address import Address

FK_ACTIONS = ("no action", "restrict", "cascade", "set null", "set default")


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    comment: str | None = None
    source: str | None = field(default=None, compare=False)
    # desired only: "exact" when the YAML lists every grant held on the schema and on what it
    # holds (a role it does not name loses what it holds); "named": only the roles it names
    privileges: str = field(default="named", compare=False)

    @property
    def address(self) -> Address:
        return Address.of("pg", "schema", self.name)


@dataclass(frozen=True, slots=True)
class Extension:
    name: str
    schema: str | None = None  # None: wherever Postgres puts it (not compared)
    version: str | None = None  # None: any installed version is fine
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("pg", "extension", self.name)


@dataclass(frozen=True, slots=True)
class Enum:
    schema: str
    name: str
    labels: tuple[str, ...]
    comment: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("pg", "enum", self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    identity: str | None = None  # "always" | "by default"
    generated: str | None = None  # expression of a GENERATED ALWAYS ... STORED column
    collation: str | None = None  # only when it differs from the type's default
    comment: str | None = None
    renamed_from: str | None = field(default=None, compare=False)
    source: str | None = field(default=None, compare=False)
    # A sequence this column owns (a `serial` column: default nextval of it), schema-qualified.
    sequence: str | None = None
    # An identity's sequence options that differ from the defaults (model/sequence_options.py).
    sequence_options: tuple[tuple[str, str], ...] = ()
    # desired only: how a type change computes the new values (`USING`), when not by a cast
    using: str | None = field(default=None, compare=False)
    sequence_comment: str | None = None  # the comment on the owned sequence


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    name: str
    columns: tuple[str, ...]
    comment: str | None = None
    source: str | None = field(default=None, compare=False)
    deferrable: bool = False
    initially_deferred: bool = False
    options: tuple[str, ...] = ()  # its index's storage parameters, as Index.options


@dataclass(frozen=True, slots=True)
class Unique:
    name: str
    columns: tuple[str, ...]
    deferrable: bool = False
    initially_deferred: bool = False
    nulls_not_distinct: bool = False
    comment: str | None = None
    source: str | None = field(default=None, compare=False)
    options: tuple[str, ...] = ()  # its index's storage parameters, as Index.options


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    expression: str
    comment: str | None = None
    source: str | None = field(default=None, compare=False)
    valid: bool = True  # False: NOT VALID (rows before it were never checked)
    no_inherit: bool = False  # NO INHERIT: the table's own, not its children's
    # NOT VALID here, validated on these partitions or child tables (schema, table), sorted:
    # a partition made after the check, or validated on its own
    valid_on: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "no action"
    on_update: str = "no action"
    match_full: bool = False
    deferrable: bool = False
    initially_deferred: bool = False
    comment: str | None = None
    source: str | None = field(default=None, compare=False)
    valid: bool = True  # False: NOT VALID (rows before it were never checked)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """An exclusion constraint. `definition` is the server's pg_get_constraintdef text once
    canonical (`EXCLUDE USING gist (room WITH =, during WITH &&)` …); `columns` are the
    columns it reads, for ordering only."""

    name: str
    definition: str
    comment: str | None = None
    columns: tuple[str, ...] = field(default=(), compare=False)
    source: str | None = field(default=None, compare=False)


Constraint = PrimaryKey | Unique | Check | ForeignKey | Exclusion


@dataclass(frozen=True, slots=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...] = ()
    primary_key: PrimaryKey | None = None
    uniques: tuple[Unique, ...] = ()
    checks: tuple[Check, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    comment: str | None = None
    exclusions: tuple[Exclusion, ...] = ()
    renamed_from: str | None = field(default=None, compare=False)
    source: str | None = field(default=None, compare=False)
    row_security: str = "off"  # off | on (ENABLE ROW LEVEL SECURITY)
    force_row_security: bool = False  # FORCE: the owner too, once on (may be set while off)
    replica_identity: str = "default"  # default | full | nothing | index (USING INDEX …)
    replica_identity_index: str | None = None  # the index of `index`: a key's or its own
    unlogged: bool = False  # CREATE UNLOGGED TABLE: not written to the WAL
    # storage parameters `name=value` (`toast.…` too) in the catalog's order, which pg_dump
    # shows: the same ones in another order are set again in the order declared
    options: tuple[str, ...] = ()
    inherits: tuple[tuple[str, str], ...] = ()  # parents (schema, name), in order; their
    # columns are not in `columns` (only the columns the table declares itself are)
    partition_by: str | None = None  # the partition key as the server spells it: "RANGE (at)"
    partition_of: tuple[str, str] | None = None  # a partition's parent; its columns are the
    # parent's (`columns` is empty)
    bound: str | None = None  # a partition's "FOR VALUES …" or "DEFAULT", the server's spelling
    # A partition's indexes attached to its parent's: sorted (parent's index, its own index)
    # name pairs (a key's index carries the key's name); None in YAML that does not say.
    attached_indexes: tuple[tuple[str, str], ...] | None = None
    # A partition's columns NOT NULL beyond its parent's (a local key's, or set on it alone).
    not_null: tuple[str, ...] = ()
    # desired only: whether column moves take phased plans (None: by the table's size)
    large: bool | None = field(default=None, compare=False)
    owner: str | None = field(default=None, compare=False)  # live only (diff/owners.py)

    @property
    def address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.name)

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def constraints(self) -> tuple[Constraint, ...]:
        pk = (self.primary_key,) if self.primary_key else ()
        return (*pk, *self.uniques, *self.checks, *self.exclusions, *self.foreign_keys)

    def column_address(self, column: str) -> Address:
        return Address.of("pg", "column", self.schema, self.name, column)

    def constraint_address(self, constraint: str) -> Address:
        return Address.of("pg", "constraint", self.schema, self.name, constraint)


@dataclass(frozen=True, slots=True)
class IndexElement:
    column: str | None = None  # exactly one of column / expression
    expression: str | None = None
    order: str = "asc"  # "asc" | "desc"
    nulls: str | None = None  # "first" | "last"; None = default for the order
    opclass: str | None = None  # only a non-default operator class
    collation: str | None = None


@dataclass(frozen=True, slots=True)
class Index:
    schema: str
    table: str
    name: str
    elements: tuple[IndexElement, ...]
    unique: bool = False
    method: str = "btree"
    where: str | None = None
    include: tuple[str, ...] = ()
    nulls_not_distinct: bool = False
    comment: str | None = None
    options: tuple[str, ...] = ()  # storage parameters `name=value`, as Table.options
    source: str | None = field(default=None, compare=False)
    # Live only. False: a build that never finished (CREATE INDEX CONCURRENTLY interrupted or
    # failed leaves pg_index.indisvalid or indisready false); such an index serves no query and
    # is never the one the YAML declares. Not compared, so that the inventory recorded for
    # every working index stays what it was: the index diff rebuilds an invalid one itself.
    valid: bool = field(default=True, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("pg", "index", self.schema, self.name)

    @property
    def table_address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)

    def columns_used(self) -> tuple[str, ...]:
        """Plain columns referenced (expressions excluded: their deps are the whole table)."""
        cols = [e.column for e in self.elements if e.column]
        return (*cols, *self.include)


def reduce_by_fields(value: object) -> tuple[type, tuple[object, ...]]:
    """Pickle as a constructor call: the desired-state cache unpickles twenty thousand of
    these per thousand tables, and the dataclass default (fields() + setattr per field) is
    twice as slow."""
    return type(value), tuple([getattr(value, name) for name in value.__dataclass_fields__])


_MODELS = (
    Schema,
    Extension,
    Enum,
    Column,
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Table,
    Exclusion,
)
for _cls in (*_MODELS, IndexElement, Index):
    _cls.__reduce__ = reduce_by_fields  # type: ignore[method-assign]
