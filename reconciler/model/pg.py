"""Postgres object values, shared by desired state (YAML) and live state (catalog).

Invariants every producer (loader, introspector) must establish before comparing:
- names are the exact catalog names (case preserved, never quoted);
- `type` texts are canonical `format_type()` output with user types schema-qualified
  (introspection runs with an empty search_path);
- expressions are Postgres' deparsed text where the server was asked (see canonical.py);
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


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    name: str
    columns: tuple[str, ...]
    comment: str | None = None
    source: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Unique:
    name: str
    columns: tuple[str, ...]
    deferrable: bool = False
    initially_deferred: bool = False
    nulls_not_distinct: bool = False
    comment: str | None = None
    source: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    expression: str
    comment: str | None = None
    source: str | None = field(default=None, compare=False)
    valid: bool = True  # False: NOT VALID (rows before it were never checked)


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
    row_security: str = "off"  # off | on (ENABLE) | forced (ENABLE + FORCE: the owner too)
    inherits: tuple[tuple[str, str], ...] = ()  # parents (schema, name), in order; their
    # columns are not in `columns` (only the columns the table declares itself are)

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
    source: str | None = field(default=None, compare=False)

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


@dataclass(frozen=True, slots=True)
class View:
    """A view or materialized view. `query` is the server's deparse (pg_get_viewdef, names
    schema-qualified) once canonical; `reads` are the relations and columns it reads, as
    (schema, relation, column or None): from pg_depend for a live view, from the parsed
    query (relations only) for a desired one. Its indexes (materialized) are `Index`es whose
    `table` is the view."""

    schema: str
    name: str
    query: str
    materialized: bool = False
    comment: str | None = None
    reads: tuple[tuple[str, str, str | None], ...] = field(default=(), compare=False)
    source: str | None = field(default=None, compare=False)

    @property
    def kind(self) -> str:
        return "materialized_view" if self.materialized else "view"

    @property
    def address(self) -> Address:
        return Address.of("pg", self.kind, self.schema, self.name)

    @property
    def relation_address(self) -> Address:
        """What its indexes and the views reading it depend on, whichever kind it is."""
        return Address.of("pg", "table", self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Function:
    """A function or procedure written in a procedural language (its body is text). It is
    named by its schema, name and argument types (`types`, format_type spelling without
    modifiers, as in `DROP FUNCTION s.f(integer, text)`). `arguments` and `returns` are the
    server's spelling (pg_get_function_arguments / _result) once canonical; `body` is kept
    exactly as written; `config` holds `name=value` settings (`SET search_path = …`)."""

    schema: str
    name: str
    types: str
    arguments: str
    returns: str | None  # None: a procedure
    language: str
    body: str
    volatility: str = "volatile"  # immutable | stable | volatile
    strict: bool = False
    security_definer: bool = False
    leakproof: bool = False
    parallel: str = "unsafe"  # safe | restricted | unsafe
    config: tuple[str, ...] = ()
    comment: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def is_procedure(self) -> bool:
        return self.returns is None

    @property
    def kind(self) -> str:
        return "procedure" if self.is_procedure else "function"

    @property
    def address(self) -> Address:
        return Address.of("pg", self.kind, self.schema, self.name, self.types)

    def signature_matches(self, other: Function) -> bool:
        """Whether CREATE OR REPLACE can turn one into the other (Postgres refuses a new
        return type, other argument names or defaults, or a function into a procedure)."""
        return (self.arguments, self.returns) == (other.arguments, other.returns)


INTEGER_RANGES = {
    "smallint": (-32768, 32767),
    "integer": (-2147483648, 2147483647),
    "bigint": (-9223372036854775808, 9223372036854775807),
}


@dataclass(frozen=True, slots=True)
class Sequence:
    """A free-standing sequence (a serial column's belongs to its column). Numbers are kept
    as text, exactly as large as Postgres allows; every option is explicit (see
    `with_defaults`), so equal sequences compare equal however they were written."""

    schema: str
    name: str
    type: str = "bigint"
    start: str = "1"
    increment: str = "1"
    min: str = "1"
    max: str = "9223372036854775807"
    cache: str = "1"
    cycle: bool = False
    comment: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("pg", "sequence", self.schema, self.name)

    @staticmethod
    def bounds(type_: str, increment: int, lo: int | None, hi: int | None) -> tuple[int, int]:
        """MINVALUE / MAXVALUE as Postgres defaults them for this type and direction."""
        tmin, tmax = INTEGER_RANGES[type_]
        if increment > 0:
            return (1 if lo is None else lo), (tmax if hi is None else hi)
        return (tmin if lo is None else lo), (-1 if hi is None else hi)


@dataclass(frozen=True, slots=True)
class Domain:
    """A domain over a base type, with NOT NULL, a default, a collation and checks."""

    schema: str
    name: str
    type: str
    not_null: bool = False
    default: str | None = None
    collation: str | None = None
    checks: tuple[Check, ...] = ()
    comment: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("pg", "domain", self.schema, self.name)


@dataclass(frozen=True, slots=True)
class CompositeType:
    """A standalone composite type: (name, type, collation or None) per attribute."""

    schema: str
    name: str
    attributes: tuple[tuple[str, str, str | None], ...]
    comment: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("pg", "composite_type", self.schema, self.name)


PRIVILEGES = {
    "table": ("select", "insert", "update", "delete", "truncate", "references", "trigger"),
    "column": ("select", "insert", "update", "references"),
    "sequence": ("usage", "select", "update"),
    "schema": ("usage", "create"),
    "function": ("execute",),
}


@dataclass(frozen=True, slots=True)
class Grant:
    """The privileges one role (`public` for PUBLIC) holds on one object. `on` is table (also
    views), column, sequence, schema or function; `name` is a function's `name(types)`, and
    `column` is set for a column. Only roles the desired state names for an object are
    compared: every other role's privileges there are left as they are."""

    on: str
    schema: str
    name: str
    column: str | None
    role: str
    privileges: tuple[str, ...] = ()  # sorted, lower case
    grantable: tuple[str, ...] = ()  # those held WITH GRANT OPTION
    source: str | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.on, self.schema, self.name, self.column or "", self.role)

    @property
    def object_address(self) -> Address:
        if self.on == "schema":
            return Address.of("pg", "schema", self.name)
        if self.on == "function":
            base, _, types = self.name.partition("(")
            return Address.of("pg", "function", self.schema, base, types.removesuffix(")"))
        if self.on == "column":
            return Address.of("pg", "column", self.schema, self.name, self.column or "")
        kind = "sequence" if self.on == "sequence" else "table"
        return Address.of("pg", kind, self.schema, self.name)

    @property
    def address(self) -> Address:
        return Address.of("pg", "grant", *self.object_address.parts[1:], self.role)


POLICY_COMMANDS = ("all", "select", "insert", "update", "delete")


@dataclass(frozen=True, slots=True)
class Policy:
    """A row-level security policy. `roles` are role names, `public` for PUBLIC, sorted;
    `using` and `check` are the server's text of the expressions once canonical."""

    schema: str
    table: str
    name: str
    command: str = "all"
    permissive: bool = True
    roles: tuple[str, ...] = ("public",)
    using: str | None = None
    check: str | None = None
    comment: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("pg", "policy", self.schema, self.table, self.name)

    @property
    def table_address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)


TRIGGER_EVENTS = ("insert", "update", "delete", "truncate")  # the order Postgres prints them


@dataclass(frozen=True, slots=True)
class Trigger:
    """A trigger on a table calling a function. `function` is its schema-qualified name as
    format('%I.%I') spells it; `when` is the server's text of the WHEN condition (read back
    from pg_get_triggerdef) once canonical; `columns` are those of UPDATE OF."""

    schema: str
    table: str
    name: str
    timing: str  # before | after
    events: tuple[str, ...]  # in TRIGGER_EVENTS order
    function: str
    level: str = "row"  # row | statement
    columns: tuple[str, ...] = ()
    when: str | None = None
    arguments: tuple[str, ...] = ()
    comment: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("pg", "trigger", self.schema, self.table, self.name)

    @property
    def table_address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)


def _reduce_by_fields(value: object) -> tuple[type, tuple[object, ...]]:
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
    View,
    Function,
    Trigger,
    Policy,
    Exclusion,
    Sequence,
    Domain,
    CompositeType,
    Grant,
)
for _cls in (*_MODELS, IndexElement, Index):
    _cls.__reduce__ = _reduce_by_fields  # type: ignore[method-assign]
