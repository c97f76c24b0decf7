"""Postgres objects that are not a table's parts: views, routines, triggers, policies,
sequences, collations, domains and composite types (privileges: pg_grants.py). Same rules as
model/pg.py (exact catalog names, canonical texts, defaults spelled as Postgres' defaults)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from reconciler.model.address import Address
from reconciler.model.pg import Check, reduce_by_fields


def view_options(pairs: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """`name=value` options as the model keeps them: sorted, values exactly as the catalog
    keeps them (as they were given: `on` and `true` are two spellings there, and a rollback
    must give back the one that was)."""
    return tuple(sorted(f"{name}={value}" for name, value in pairs))


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
    options: tuple[str, ...] = ()  # reloptions, `name=value`, sorted (see view_options)
    column_comments: tuple[tuple[str, str], ...] = ()  # (column, comment), sorted by column
    owner: str | None = field(default=None, compare=False)  # live only (diff/owners.py)

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
    exactly as written; `config` holds `name=value` settings (`SET search_path = …`).

    `sql_body`: the body is SQL-standard (`RETURN …` or `BEGIN ATOMIC … END`, language sql),
    which the server parses at creation and binds to what it names; `body` is then the
    server's deparse of it once canonical. `uses` are the address parts (without "pg") of
    the objects it depends on, as pg_depend records them: of the live routine, or of the
    desired one as probed (pipeline/canonical.py); None when unknown (a probe the server refused).
    `used_by`: the checks, indexes, views, column defaults (`default`, schema, table,
    column), triggers and policies bound to a live one, as address parts."""

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
    cost: str | None = None  # COST, when not the default (100)
    rows: str | None = None  # ROWS of a set-returning one, when not the default (1000)
    source: str | None = field(default=None, compare=False)
    sql_body: bool = False
    uses: tuple[tuple[str, ...], ...] | None = field(default=None, compare=False)
    used_by: tuple[tuple[str, ...], ...] = field(default=(), compare=False)
    owner: str | None = field(default=None, compare=False)  # live only (diff/owners.py)

    @property
    def is_procedure(self) -> bool:
        return self.returns is None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.schema, self.name, self.types)

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


TRIGGER_EVENTS = ("insert", "update", "delete", "truncate")  # the order Postgres prints them


@dataclass(frozen=True, slots=True)
class Trigger:
    """A trigger on a table (or an `instead of` one on a view) calling a function. `function`
    is its schema-qualified name as format('%I.%I') spells it; `when` is the server's text of
    the WHEN condition (read back from pg_get_triggerdef) once canonical; `columns` are those
    of UPDATE OF; `old_table` / `new_table` its transition tables (REFERENCING); `fires` when
    it fires (ALTER TABLE … ENABLE [REPLICA | ALWAYS] / DISABLE TRIGGER)."""

    schema: str
    table: str
    name: str
    timing: str  # before | after | instead of
    events: tuple[str, ...]  # in TRIGGER_EVENTS order
    function: str
    level: str = "row"  # row | statement
    columns: tuple[str, ...] = ()
    when: str | None = None
    arguments: tuple[str, ...] = ()
    comment: str | None = None
    source: str | None = field(default=None, compare=False)
    constraint: bool = False  # CREATE CONSTRAINT TRIGGER (after, for each row)
    deferrable: bool = False  # a constraint trigger's DEFERRABLE
    initially_deferred: bool = False
    from_table: tuple[str, str] | None = None  # a constraint trigger's FROM (schema, table)
    old_table: str | None = None  # REFERENCING OLD TABLE AS
    new_table: str | None = None  # REFERENCING NEW TABLE AS
    fires: str = "origin"  # origin | replica | always | never (tgenabled O, R, A, D)

    @property
    def address(self) -> Address:
        return Address.of("pg", "trigger", self.schema, self.table, self.name)

    @property
    def table_address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)


INTEGER_RANGES = {
    "smallint": (-32768, 32767),
    "integer": (-2147483648, 2147483647),
    "bigint": (-9223372036854775808, 9223372036854775807),
}


@dataclass(frozen=True, slots=True)
class Sequence:
    """A free-standing sequence (a serial column's belongs to its column). Numbers are kept
    as text, exactly as large as Postgres allows; every option is explicit (see
    `with_defaults`), so equal sequences compare equal however they were written.

    `owned_by` is the (table, column) in the sequence's own schema that owns it (`ALTER
    SEQUENCE … OWNED BY`) when that column's default does not call it: dropping the table or
    column drops the sequence too. A sequence the owning column's default calls is that
    column's (Column.sequence), never free-standing."""

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
    owned_by: tuple[str, str] | None = None  # (table, column), in `schema`
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
class Collation:
    """A collation (CREATE COLLATION), as pg_collation holds it: `FROM "POSIX"` reads back as
    the provider and locale it copied. `locale` is set when LC_COLLATE and LC_CTYPE are one
    (always for ICU); otherwise `lc_collate` and `lc_ctype` are. Its version is the server's
    library's, not part of the definition."""

    schema: str
    name: str
    provider: str = "libc"  # libc | icu | builtin (PostgreSQL 17 on)
    locale: str | None = None
    lc_collate: str | None = None
    lc_ctype: str | None = None
    deterministic: bool = True
    comment: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("pg", "collation", self.schema, self.name)


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


for _cls in (
    View,
    Function,
    Trigger,
    Policy,
    Sequence,
    Collation,
    Domain,
    CompositeType,
):
    _cls.__reduce__ = reduce_by_fields  # type: ignore[method-assign]
