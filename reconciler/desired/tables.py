"""One table spec → Table + its Index values, with default names and in-table checks.

Default names follow the seed conventions or Postgres' own: `<table>_pkey`,
`<table>_<cols>_key`, `<table>_<first column referenced>_check`, `fk_<table>_<ref_table>`
(plus `_<cols>` when several FKs reach the same table) and `idx_<table>_<cols>`.
Foreign keys get their name here (constraint names are unique per table) but are resolved
later (references.py), once every table's primary key is known. Columns: columns.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reconciler.desired.columns import build_columns
from reconciler.desired.context import PendingFk, split_name
from reconciler.desired.grants import declare_grants
from reconciler.desired.lint_rules import RULES, LintIgnore
from reconciler.desired.partitions import (
    build_partition,
    build_partition_key,
    build_partition_names,
)
from reconciler.desired.rules import build_rule
from reconciler.desired.table_scope import TableScope
from reconciler.desired.triggers import build_exclusion, build_policy, build_trigger
from reconciler.model.address import Address
from reconciler.model.pg import Check, Exclusion, Index, IndexElement, PrimaryKey, Table, Unique
from reconciler.project.yamlload import Where
from reconciler.sql import expressions as sqlexpr
from reconciler.sql import fragments as sqltext

if TYPE_CHECKING:
    from reconciler.desired.spec_table import IndexSpec

_METHOD = re.compile(r"[a-z_][a-z0-9_]*\Z")


class TableBuilder(TableScope):
    """Builds one table spec into ctx.tables, its indexes, grants, triggers, policies, rules."""

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
        columns = build_columns(self)
        self.columns_by_name = {c.name: c for c in columns}
        self.inherited = ctx.inherited_columns((schema, name)) - set(self.columns_by_name)
        for i, parent in enumerate(spec.inherits):
            if parent.columns:
                ctx.report(where.sub("inherits", i, "columns"), "a parent table takes no columns")
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
            declare_grants(ctx, "table", schema, name, spec.grants, where, self.column_names())
        for i, ix in enumerate(spec.indexes):
            self.index(ix, where.sub("indexes", i))
        if spec.triggers or spec.policies:
            for i, tg in enumerate(spec.triggers):
                build_trigger(self, tg, where.sub("triggers", i))
            for i, pol in enumerate(spec.policies):
                build_policy(self, pol, where.sub("policies", i))
        if spec.rules:
            for i, rule in enumerate(spec.rules):
                build_rule(ctx, schema, name, rule, where.sub("rules", i), view=False)
        if spec.replica_identity_index is not None:
            self.replica_index(spec.replica_identity_index)
        self.lint_ignores()

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
        built = [
            build_exclusion(self, x, self.where.sub("exclusions", i))
            for i, x in enumerate(self.spec.exclusions)
        ]
        return tuple(sorted((x for x in built if x is not None), key=lambda x: x.name))

    # --- constraints ---------------------------------------------------------------------------

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
            expr = None  # (positions made only for what is given, as for columns)
            if e.expression is not None:
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
            collation = None
            if e.collation is not None:
                collation = self.collation(e.collation, ew.sub("collation"))
            column = self.columns_by_name.get(e.column or "")
            if column is not None and collation == column.collation:
                collation = None  # the catalog reads an index's collation relative to its column
            default_nulls = "last" if e.order == "asc" else "first"
            nulls = None if e.nulls in (None, default_nulls) else e.nulls
            elements.append(IndexElement(e.column, expr, e.order, nulls, opclass, collation))
        if spec.include:
            self.exist(spec.include, where.sub("include"), "include")
        predicate = None
        if spec.where is not None:
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
