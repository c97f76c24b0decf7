"""One table spec → Table + its Index values, with default names and in-table checks.

Default names follow the seed conventions or Postgres' own: `<table>_pkey`,
`<table>_<cols>_key`, `<table>_<first column referenced>_check`, `fk_<table>_<ref_table>`
(plus `_<cols>` when several FKs reach the same table) and `idx_<table>_<cols>`.
Foreign keys get their name here (constraint names are unique per table) but are resolved
later by the Builder, once every table's primary key is known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.desired.lint import RULES, LintIgnore
from reconciler.desired.spec import ColumnSpec, FileSpec, ForeignKeySpec, IndexSpec, TableSpec
from reconciler.model import sequence_options as seqopts
from reconciler.model.address import Address
from reconciler.model.pg import (
    Check,
    Column,
    Exclusion,
    Index,
    IndexElement,
    PrimaryKey,
    Table,
    Unique,
)
from reconciler.model.sequence_options import Options
from reconciler.project.yamlload import Where
from reconciler.sql import expressions as sqlexpr
from reconciler.sql import fragments as sqltext

if TYPE_CHECKING:
    from reconciler.desired.build import Builder

IDENTITY_TYPES = ("smallint", "integer", "bigint")
_METHOD = re.compile(r"[a-z_][a-z0-9_]*\Z")
_OPTION_NAME = re.compile(r"(toast\.)?[a-z_][a-z0-9_]*\Z")
_OPTION_VALUE = re.compile(r"[A-Za-z0-9_.+-]+\Z")


@dataclass(frozen=True, slots=True)
class PendingFk:
    table: tuple[str, str]
    spec: ForeignKeySpec
    where: Where
    name: str


class TableBuilder:
    def __init__(self, ctx: Builder, spec: TableSpec | FileSpec, where: Where) -> None:
        self.ctx = ctx
        self.spec = spec
        self.where = where
        self.schema = self.name = ""
        self.columns_by_name: dict[str, Column] = {}
        self.inherited: set[str] = set()
        self.constraint_names: dict[str, str] = {}  # name → source

    def build(self) -> None:
        ctx, spec, where = self.ctx, self.spec, self.where
        name_at = where.sub("table")
        schema, name = split_name(spec.table or "", spec.schema_, "public")
        if not (ctx.name_ok(schema, name_at) and ctx.name_ok(name, name_at)):
            return
        self.schema, self.name = schema, name
        # A top-level table starts at its `table:` key, a `tables:` entry at its mapping.
        source = where.source if where.path else f"{where.display}:{name_at.key_line}"
        if (schema, name) in ctx.tables:
            first = ctx.tables[(schema, name)].source
            ctx.report(name_at, f"table '{schema}.{name}' is declared twice (first at {first})")
            return
        if (schema, name) in ctx.enums:  # every table also defines a type of its name
            ctx.report(name_at, f"table '{name}' has the same name as an enum in '{schema}'")
        ctx.claim_relation(schema, name, "table", name_at)
        ctx.use_schema(schema, name_at)
        if spec.renamed_from == name:
            ctx.report(where.sub("renamed_from"), "renamed_from must differ from the table name")
        columns = self.columns()
        self.columns_by_name = {c.name: c for c in columns}
        self.inherited = ctx.inherited_columns((schema, name)) - set(self.columns_by_name)
        for i, parent in enumerate(spec.inherits):
            if parent.columns:
                ctx.report(where.sub("inherits", i, "columns"), "a parent table takes no columns")
        from reconciler.desired.partitions import (
            build_partition,
            build_partition_key,
            build_partition_names,
        )

        partition_of, bound = build_partition(self)
        attached, not_null = build_partition_names(self, partition_of)
        ctx.tables[(schema, name)] = Table(
            schema=schema,
            name=name,
            columns=columns,
            primary_key=self.primary_key(),
            uniques=self.uniques(),
            checks=self.checks(),
            comment=spec.comment,
            renamed_from=spec.renamed_from,
            source=source,
            row_security="off" if spec.row_security == "off" else "on",
            force_row_security=self.force_row_security(),
            replica_identity="index" if spec.replica_identity_index else spec.replica_identity,
            replica_identity_index=spec.replica_identity_index,
            unlogged=spec.unlogged,
            options=self.options(spec.options, where),
            exclusions=self.exclusions(),
            inherits=tuple(split_name(p.table, p.schema_, schema) for p in spec.inherits),
            partition_by=build_partition_key(self),
            partition_of=partition_of,
            bound=bound,
            attached_indexes=attached,
            not_null=not_null,
            large=spec.large,
        )
        if partition_of is not None:
            ctx.pending_partitions.append(((schema, name), where.sub("partition_of")))
        self.foreign_keys()
        if spec.grants:
            from reconciler.desired.grants import declare_grants

            declare_grants(ctx, "table", schema, name, spec.grants, where, self.column_names())
        for i, ix in enumerate(spec.indexes):
            self.index(ix, where.sub("indexes", i))
        if spec.triggers or spec.policies:
            from reconciler.desired.triggers import build_policy, build_trigger  # they need us

            for i, tg in enumerate(spec.triggers):
                build_trigger(self, tg, where.sub("triggers", i))
            for i, pol in enumerate(spec.policies):
                build_policy(self, pol, where.sub("policies", i))
        if spec.rules:
            from reconciler.desired.rules import build_rule

            for i, rule in enumerate(spec.rules):
                build_rule(ctx, schema, name, rule, where.sub("rules", i), view=False)
        if spec.replica_identity_index is not None:
            self.replica_index(spec.replica_identity_index)
        self.lint_ignores()

    def options(self, given: dict, where: Where, *, toast: bool = True) -> tuple[str, ...]:
        """Storage parameters, `name=value` texts spliced into WITH (…) and SET (…): a plain
        name (a table's `toast.` before it for its TOAST table's) and a plain value each."""
        pairs = []
        for key, value in given.items():
            ow = where.sub("options", key)
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            if not _OPTION_NAME.match(key) or (not toast and key.startswith("toast.")):
                self.ctx.report(ow, f"'{key}' is not a storage parameter name")
            elif not _OPTION_VALUE.match(text):
                self.ctx.report(ow, f"'{text}' is not a plain storage parameter value")
            else:
                pairs.append(f"{key}={text}")
        return tuple(pairs)

    def force_row_security(self) -> bool:
        """`row_security: forced` is on and forced; `force_row_security` says FORCE alone."""
        forced, given = self.spec.row_security == "forced", self.spec.force_row_security
        if forced and given is False:
            message = "row_security: forced is force_row_security: true; say on or drop this"
            self.ctx.report(self.where.sub("force_row_security"), message)
        return forced or bool(given)

    def replica_index(self, name: str) -> None:
        """REPLICA IDENTITY USING INDEX needs a unique, immediate, non-partial index of this
        table on NOT NULL columns: its primary key, a unique key, or a unique index of its own
        (a partition's may also be the copy of its parent's)."""
        spec, where = self.spec, self.where.sub("replica_identity_index")
        if "replica_identity" in spec.model_fields_set:
            message = "replica_identity and replica_identity_index exclude each other"
            self.ctx.report(self.where.sub("replica_identity"), message)
        table = self.ctx.tables[(self.schema, self.name)]
        keys = {k.name: k for k in (table.primary_key, *table.uniques) if k is not None}
        index = self.ctx.indexes.get((self.schema, name))
        if name in keys:
            key = keys[name]
            columns, why = key.columns, "deferrable" if getattr(key, "deferrable", False) else ""
        elif index is not None and index.table == self.name:
            columns = tuple(e.column or "" for e in index.elements)
            why = "" if index.unique else "not unique"
            why = why or ("partial" if index.where else "")
            why = why or ("on an expression" if not all(columns) else "")
        elif table.partition_of is not None:
            return  # a copy its parent's key or index made on it: the server checks that one
        else:
            message = f"'{name}' is not the primary key, a unique key or an index of this table"
            self.ctx.report(where, message)
            return
        nullable = [c for c in columns if (col := table.column(c)) is not None and col.nullable]
        why = why or (f"column '{nullable[0]}' is nullable" if nullable else "")
        if why:
            self.ctx.report(where, f"index '{name}' cannot be the replica identity: {why}")

    def exclusions(self) -> tuple[Exclusion, ...]:
        if not self.spec.exclusions:
            return ()
        from reconciler.desired.triggers import build_exclusion  # it needs this module

        built = [
            build_exclusion(self, x, self.where.sub("exclusions", i))
            for i, x in enumerate(self.spec.exclusions)
        ]
        return tuple(sorted((x for x in built if x is not None), key=lambda x: x.name))

    # --- columns -------------------------------------------------------------------------------

    def columns(self) -> tuple[Column, ...]:
        ctx, spec = self.ctx, self.spec
        pk_cols = set(spec.primary_key.columns) if spec.primary_key else set()
        all_names = [c.name for c in spec.columns]
        resolve = ctx.enum_resolver(self.schema)
        out: list[Column] = []
        for i, c in enumerate(spec.columns):
            cw = self.where.sub("columns", i)
            if all_names.index(c.name) != i:
                ctx.report(cw.sub("name"), f"column '{c.name}' is declared twice")
                continue
            if c.renamed_from is not None and c.renamed_from == c.name:
                ctx.report(cw.sub("renamed_from"), "renamed_from must differ from the name")
            elif c.renamed_from in all_names:
                ctx.report(cw.sub("renamed_from"), f"'{c.renamed_from}' is also a column here")
            try:
                type_ = sqltext.canonical_type(c.type, resolve)
            except sqltext.SqlTextError as exc:
                ctx.report(cw.sub("type"), str(exc))
                type_ = None
            default = ctx.expression(c.default, cw.sub("default"), "default")
            if default is not None and sqlexpr.is_null_literal(default):
                default = None  # Postgres stores DEFAULT NULL as no default at all
            generated = ctx.expression(c.generated, cw.sub("generated"), "generated expression")
            given = [k for k in ("default", "identity", "generated") if getattr(c, k) is not None]
            if len(given) > 1:
                ctx.report(cw, f"column '{c.name}': {' and '.join(given)} exclude each other")
            if c.identity and type_ is not None and type_ not in IDENTITY_TYPES:
                message = f"identity needs a smallint, integer or bigint column, not {type_}"
                ctx.report(cw.sub("identity"), message)
            # Identity and primary-key columns are NOT NULL in the catalog whatever was asked.
            forced = "an identity" if c.identity else ("a primary key" if c.name in pk_cols else "")
            if forced and c.nullable and "nullable" in c.model_fields_set:
                ctx.report(cw.sub("nullable"), f"{forced} column cannot be nullable")
            options = self.sequence_options(c, type_, cw)
            sequence = None
            if c.sequence is not None:
                try:
                    sequence = sqltext.qualified_name(c.sequence, "sequence")
                except sqltext.SqlTextError as exc:
                    ctx.report(cw.sub("sequence"), str(exc))
            if c.sequence_grants:
                self.sequence_grants(c, sequence, cw)
            if c.sequence_comment is not None and c.sequence is None:
                ctx.report(cw.sub("sequence_comment"), "sequence_comment needs a `sequence`")
            col = Column(
                name=c.name,
                type=type_ or c.type,
                nullable=c.nullable and not forced,
                default=default,
                identity=c.identity,
                generated=generated,
                collation=self.collation(c.collation, cw.sub("collation")),
                comment=c.comment,
                renamed_from=c.renamed_from,
                source=cw.source,
                sequence=sequence,
                sequence_options=options,
                using=c.using,
                sequence_comment=c.sequence_comment,
            )
            out.append(col)
        return tuple(out)

    def sequence_grants(self, c: ColumnSpec, sequence: str | None, where: Where) -> None:
        if c.identity is not None:  # the identity's sequence, by the name a CREATE gives it
            from reconciler.desired.grants import declare_grants
            from reconciler.model.names import make_object_name

            name = make_object_name(self.name, c.name, "seq")
            declare_grants(
                self.ctx,
                "sequence",
                self.schema,
                name,
                c.sequence_grants,
                where,
                key="sequence_grants",
            )
            return
        if c.sequence is None:
            message = "sequence_grants need a `sequence` or an identity"
            self.ctx.report(where.sub("sequence_grants"), message)
            return
        if sequence is None:
            return  # reported with the sequence
        from reconciler.desired.grants import declare_grants
        from reconciler.model.names import split_qualified

        names = split_qualified(sequence)
        if len(names) != 2:
            message = "sequence_grants need the sequence schema-qualified: `schema.name`"
            self.ctx.report(where.sub("sequence"), message)
            return
        schema, name = names
        declare_grants(
            self.ctx, "sequence", schema, name, c.sequence_grants, where, key="sequence_grants"
        )

    def sequence_options(self, c: ColumnSpec, type_: str | None, where: Where) -> Options:
        if c.sequence_options is None:
            return ()
        if not (c.identity or c.sequence):
            message = "sequence_options need an identity or a `sequence`"
            self.ctx.report(where.sub("sequence_options"), message)
            return ()
        if type_ not in IDENTITY_TYPES:
            if c.sequence and type_ is not None:
                message = f"a sequence's column is smallint, integer or bigint, not {type_}"
                self.ctx.report(where.sub("sequence_options"), message)
            return ()  # an identity's is reported with it
        from reconciler.desired.objects import sequence_numbers

        spec = c.sequence_options
        seq_type = self.sequence_type(c, type_, where.sub("sequence_options", "type"))
        if seq_type is None:
            return ()
        numbers = sequence_numbers(self.ctx, spec, seq_type, where.sub("sequence_options"))
        if numbers is None:
            return ()
        start, increment, lo, hi, cache = numbers
        return seqopts.options(
            type_,
            start=start,
            increment=increment,
            lo=lo,
            hi=hi,
            cache=cache,
            cycle=spec.cycle,
            as_type=seq_type,
        )

    def sequence_type(self, c: ColumnSpec, type_: str, where: Where) -> str | None:
        """A serial column's sequence type (`sequence_options.type`), the column's if not given;
        None after reporting a bad one."""
        given = c.sequence_options.type if c.sequence_options else None
        if given is None:
            return type_
        try:
            seq_type = sqltext.canonical_type(given, lambda _: None)
        except sqltext.SqlTextError as exc:
            self.ctx.report(where, str(exc))
            return None
        if c.identity:
            self.ctx.report(where, "an identity's sequence has its column's type: leave out `type`")
            return None
        if seq_type not in IDENTITY_TYPES:
            self.ctx.report(where, f"a sequence is smallint, integer or bigint, not {given}")
            return None
        return seq_type

    # --- constraints ---------------------------------------------------------------------------

    def collation(self, text: str | None, where: Where) -> str | None:
        if text is None:
            return None
        try:
            return sqltext.canonical_collation(text, self.ctx.known_schemas)
        except sqltext.SqlTextError as exc:
            self.ctx.report(where, str(exc))
            return None

    def column_names(self) -> list[str]:
        """Its own columns and those its parents give it."""
        return [*self.columns_by_name, *sorted(self.inherited)]

    def exist(self, cols: Sequence[str], where: Where, what: str, *, unique: bool = False) -> None:
        for j, col in enumerate(cols):
            if col not in self.columns_by_name and col not in self.inherited:
                self.ctx.report(where.sub(j), f"{what} column '{col}' is not a column of the table")
            elif unique and list(cols).index(col) != j:
                self.ctx.report(where.sub(j), f"column '{col}' appears twice in the {what}")

    def constraint_name(self, given: str | None, default: str, where: Where) -> str:
        """Constraint names are unique per table; colliding defaults need an explicit name."""
        name = given or default
        at_ = where.sub("name") if given else where
        if self.ctx.name_ok(name, at_, default=given is None) and name in self.constraint_names:
            hint = "" if given else "; give one of them a `name:`"
            first = self.constraint_names[name]
            message = f"constraint name '{name}' is used twice in this table (first at {first})"
            self.ctx.report(at_, message + hint)
        self.constraint_names.setdefault(name, where.source)
        return name

    def primary_key(self) -> PrimaryKey | None:
        p = self.spec.primary_key
        if p is None:
            return None
        pw = self.where.sub("primary_key")
        self.exist(p.columns, pw.sub("columns"), "primary key", unique=True)
        name = self.constraint_name(p.name, f"{self.name}_pkey", pw)
        self.ctx.claim_relation(self.schema, name, "primary key", pw)
        return PrimaryKey(
            name,
            tuple(p.columns),
            p.comment,
            source=pw.source,
            deferrable=self.ctx.deferrable(p, pw),
            initially_deferred=p.initially_deferred,
            options=self.options(p.options, pw, toast=False),
        )

    def uniques(self) -> tuple[Unique, ...]:
        out = []
        for i, u in enumerate(self.spec.unique):
            uw = self.where.sub("unique", i)
            self.exist(u.columns, uw.sub("columns"), "unique constraint", unique=True)
            default = f"{self.name}_{'_'.join(u.columns)}_key"
            name = self.constraint_name(u.name, default, uw)
            self.ctx.claim_relation(self.schema, name, "unique constraint", uw)
            unique = Unique(
                name=name,
                columns=tuple(u.columns),
                deferrable=self.ctx.deferrable(u, uw),
                initially_deferred=u.initially_deferred,
                nulls_not_distinct=u.nulls_not_distinct,
                comment=u.comment,
                source=uw.source,
                options=self.options(u.options, uw, toast=False),
            )
            out.append(unique)
        return tuple(out)

    def checks(self) -> tuple[Check, ...]:
        out = []
        for i, c in enumerate(self.spec.checks):
            cw = self.where.sub("checks", i)
            expr = self.ctx.expression(c.expression, cw.sub("expression"), "check expression")
            if expr is None:
                continue
            refs = sqlexpr.column_refs(expr)
            default = f"{self.name}_{refs[0]}_check" if refs else f"{self.name}_check"
            name = self.constraint_name(c.name, default, cw)
            if c.no_inherit and self.spec.partition_by is not None:
                message = "a partitioned table's checks hold for its partitions: no NO INHERIT"
                self.ctx.report(cw.sub("no_inherit"), message)
            below = sorted({split_name(r.table, r.schema_, self.schema) for r in c.valid_on})
            if below and (c.valid or c.no_inherit):
                message = "valid_on lists where a NOT VALID check is validated below it: "
                message += "set valid: false" if c.valid else "not for a NO INHERIT check"
                self.ctx.report(cw.sub("valid_on"), message)
            check = Check(
                name,
                expr,
                c.comment,
                cw.source,
                c.valid,
                no_inherit=c.no_inherit,
                valid_on=tuple(below),
            )
            out.append(check)
        return tuple(out)

    def foreign_keys(self) -> None:
        fks = self.spec.foreign_keys
        targets = [
            split_name(fk.references.table, fk.references.schema_, self.schema) for fk in fks
        ]
        for i, fk in enumerate(fks):
            fw = self.where.sub("foreign_keys", i)
            self.exist(fk.columns, fw.sub("columns"), "foreign key")
            default = f"fk_{self.name}_{targets[i][1]}"
            if targets.count(targets[i]) > 1:  # several FKs reach one table: tell them apart
                default += "_" + "_".join(fk.columns)
            name = self.constraint_name(fk.name, default, fw)
            self.ctx.pending_fks.append(PendingFk((self.schema, self.name), fk, fw, name))

    # --- indexes and lint ----------------------------------------------------------------------

    def index(self, spec: IndexSpec, where: Where) -> None:
        ctx = self.ctx
        elements, parts = [], []
        for j, e in enumerate(spec.columns):
            ew = where.sub("columns", j)
            expr = ctx.expression(e.expression, ew.sub("expression"), "index expression")
            if e.column is not None:
                self.exist([e.column], where.sub("columns"), "index")
                parts.append(e.column)
            elif expr is None:
                return
            else:  # an expression contributes the columns it reads to the default name
                parts += sqlexpr.column_refs(expr) or ("expr",)
            opclass = None
            if e.opclass is not None:
                try:
                    opclass = sqltext.qualified_name(e.opclass.strip(), "operator class")
                except sqltext.SqlTextError as exc:
                    ctx.report(ew.sub("opclass"), str(exc))
            collation = self.collation(e.collation, ew.sub("collation"))
            column = self.columns_by_name.get(e.column or "")
            if column is not None and collation == column.collation:
                collation = None  # the catalog reads an index's collation relative to its column
            default_nulls = "last" if e.order == "asc" else "first"
            nulls = None if e.nulls in (None, default_nulls) else e.nulls
            elements.append(IndexElement(e.column, expr, e.order, nulls, opclass, collation))
        self.exist(spec.include, where.sub("include"), "include")
        predicate = ctx.expression(spec.where, where.sub("where"), "index predicate")
        if not _METHOD.match(spec.method):
            ctx.report(where.sub("method"), f"'{spec.method}' is not an index method name")
        if spec.nulls_not_distinct and not spec.unique:
            ctx.report(where.sub("nulls_not_distinct"), "nulls_not_distinct needs unique: true")
        name = spec.name or f"idx_{self.name}_{'_'.join(parts)}"
        name_at = where.sub("name") if spec.name else where
        if not ctx.name_ok(name, name_at, default=not spec.name):
            return
        if not ctx.claim_relation(self.schema, name, "index", name_at):
            return
        ctx.indexes[(self.schema, name)] = Index(
            schema=self.schema,
            table=self.name,
            name=name,
            elements=tuple(elements),
            unique=spec.unique,
            method=spec.method,
            where=predicate,
            include=tuple(spec.include),
            nulls_not_distinct=spec.nulls_not_distinct,
            comment=spec.comment,
            options=self.options(spec.options, where, toast=False),
            source=where.source,
        )

    def lint_ignores(self) -> None:
        if self.spec.lint is None:
            return
        found = []
        for i, ig in enumerate(self.spec.lint.ignore):
            iw = self.where.sub("lint", "ignore", i)
            if ig.rule not in RULES:
                known = ", ".join(sorted(RULES))
                self.ctx.report(iw.sub("rule"), f"unknown lint rule '{ig.rule}' (rules: {known})")
                continue
            found.append(LintIgnore(ig.rule, ig.reason.strip(), iw.source))
        if found:
            self.ctx.ignores[Address.of("pg", "table", self.schema, self.name)] = tuple(found)


def split_name(name: str, schema: str | None, default: str) -> tuple[str, str]:
    """The `schema.name` shorthand: split at the first dot unless `schema:` is given."""
    if schema is not None:
        return schema, name
    if "." in name:
        head, tail = name.split(".", 1)
        return head, tail
    return default, name
