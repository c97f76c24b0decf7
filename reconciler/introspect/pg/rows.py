"""Catalog rows → model values: how each kind's query result becomes the PgSnapshot.

The queries and their reading live in postgres.py; everything here is pure data shaping,
kept exactly in the normalized forms the model documents (see postgres.py's header).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from reconciler.introspect.pg.aggregate_rows import aggregate_from_row
from reconciler.introspect.pg.rule_text import rule_from_row
from reconciler.model import sequence_options as seqopts
from reconciler.model.address import Address
from reconciler.model.pg import (
    Check,
    Column,
    Enum,
    Exclusion,
    Extension,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    Schema,
    Table,
    Unique,
)
from reconciler.model.pg_objects import (
    Collation,
    CompositeType,
    DefaultGrant,
    Domain,
    Function,
    Grant,
    Policy,
    Trigger,
    View,
    view_options,
)
from reconciler.model.pg_objects import Sequence as PgSequence
from reconciler.model.snapshot import PgSnapshot

Rows = list[tuple[Any, ...]]

_IDENTITY = {"a": "always", "d": "by default"}
_FK_ACTION = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
_INDOPTION_DESC = 1
_INDOPTION_NULLS_FIRST = 2


# --- building the snapshot ----------------------------------------------------------------------


def snapshot(rows: dict[str, Rows]) -> PgSnapshot:
    return PgSnapshot(
        schemas={
            name: Schema(name=name, comment=comment)
            for kind, _, name, comment, _ in rows["objects"]
            if kind == "schema"
        },
        extensions={
            name: Extension(name=name, schema=schema, version=details["version"])
            for kind, schema, name, _, details in rows["objects"]
            if kind == "extension"
        },
        enums={
            (schema, name): Enum(schema, name, tuple(details["labels"]), comment)
            for kind, schema, name, comment, details in rows["objects"]
            if kind == "enum"
        },
        sequences={
            (schema, name): _sequence(schema, name, comment, details)
            for kind, schema, name, comment, details in rows["objects"]
            if kind == "sequence"
        },
        collations={
            (schema, name): Collation(schema, name, comment=comment, **details)
            for kind, schema, name, comment, details in rows["objects"]
            if kind == "collation"
        },
        domains={
            (schema, name): _domain(schema, name, comment, details)
            for kind, schema, name, comment, details in rows["objects"]
            if kind == "domain"
        },
        grants=_grants(rows["objects"]),
        default_grants=_default_grants(rows["objects"]),
        creator=next((name for kind, _, name, _, _ in rows["objects"] if kind == "creator"), ""),
        composites={
            (schema, name): CompositeType(
                schema, name, tuple(tuple(a) for a in details["attributes"]), comment
            )
            for kind, schema, name, comment, details in rows["objects"]
            if kind == "composite"
        },
        tables=_tables(rows["tables"], rows["columns"], rows["constraints"]),
        indexes={(row[0], row[2]): _index(row) for row in rows["indexes"]},
        views={(row[0], row[1]): _view(row) for row in rows["views"]},
        functions={(row[0], row[1], row[2]): _function(row) for row in rows["functions"]},
        triggers={(row[0], row[1], row[2]): _trigger(row) for row in rows["triggers"]},
        policies={(row[0], row[1], row[2]): _policy(row) for row in rows["policies"]},
        rules={(row[0], row[1], row[2]): rule_from_row(row) for row in rows["rules"]},
        aggregates={(r[0], r[1], r[2]): aggregate_from_row(r) for r in rows["aggregates"]},
        unsupported=tuple((k, name) for k, name, a, _ in rows["unsupported"] if not a),  # sorted
        needs=_needs(rows["unsupported"]),
    )


def _sequence(schema: str, name: str, comment: str | None, details: dict) -> PgSequence:
    owned_by = details.pop("owned_by", None)
    return PgSequence(
        schema, name, comment=comment, owned_by=tuple(owned_by) if owned_by else None, **details
    )


def _needs(rows: Rows) -> tuple[tuple[str, str, str, str], ...]:
    """The rows of unsupported.sql that say a need, as PgSnapshot.needs holds them: (kind,
    name, address, "") for an unmodelled object's own, ("", "", address, via) for a modelled
    object's; sorted."""

    def address(parts: list[str] | None) -> str:
        return str(Address.of("pg", *parts)) if parts else ""

    found = {(k or "", name or "", address(a), address(v)) for k, name, a, v in rows if a}
    return tuple(sorted(found))


_REPLICA = {"d": "default", "f": "full", "n": "nothing", "i": "index"}


def _tables(
    table_rows: Rows, column_rows: Rows, constraint_rows: Rows
) -> dict[tuple[str, str], Table]:
    columns = _group_by_table(column_rows)
    constraints = _group_by_table(constraint_rows)
    tables = {}
    for row in table_rows:
        schema, name, comment, row_security, inherits, partition_by, parent, bound = row[:8]
        force_row_security, replica, replica_index, unlogged, options, attached = row[8:14]
        not_null, owner = row[14:]
        # "using an index" whose index was dropped: rows carry no old key, as with NOTHING
        replica = _REPLICA[replica] if replica != "i" or replica_index else "nothing"
        key = (schema, name)
        rows = sorted(constraints.get(key, ()), key=_name)
        primary_key, uniques, checks, foreign_keys, exclusions = _constraints(rows)
        tables[key] = Table(
            schema=schema,
            name=name,
            columns=tuple(_column(row) for row in sorted(columns.get(key, ()), key=_attnum)),
            primary_key=primary_key,
            uniques=uniques,
            checks=checks,
            foreign_keys=foreign_keys,
            comment=comment,
            row_security=row_security,
            force_row_security=force_row_security,
            replica_identity=replica,
            replica_identity_index=replica_index if replica == "index" else None,
            unlogged=unlogged,
            options=tuple(options),
            exclusions=exclusions,
            inherits=tuple((s, n) for s, n in inherits),
            partition_by=partition_by,
            partition_of=(parent[0], parent[1]) if parent else None,
            bound=bound,
            attached_indexes=tuple((p, c) for p, c in attached) if parent else None,
            not_null=tuple(not_null),
            owner=owner,
        )
    return tables


def _group_by_table(rows: Rows) -> dict[tuple[str, str], Rows]:
    """Rows whose first two fields are (schema, table), grouped; each group keeps query order."""
    groups: dict[tuple[str, str], Rows] = {}
    for row in rows:
        key = (row[0], row[1])
        group = groups.get(key)
        if group is None:
            groups[key] = [row]
        else:
            group.append(row)
    return groups


def _name(row: tuple[Any, ...]) -> str:
    return row[2]  # str order is the catalog's COLLATE "C" order (code points = UTF-8 bytes)


def _view(row: tuple[Any, ...]) -> View:
    schema, name, materialized, query, comment, schemas, relations, columns = row[:8]
    options, column_comments, owner = row[8:]
    reads = tuple(zip(schemas or (), relations or (), columns or (), strict=True))
    # pg_get_viewdef leads with a space and ends with ';': kept as a desired query is written
    query = query.strip().removesuffix(";").rstrip()
    return View(
        schema,
        name,
        query,
        materialized,
        comment,
        reads=reads,
        options=view_options(o.partition("=")[::2] for o in options),
        column_comments=tuple(sorted((c, text) for c, text in column_comments)),
        owner=owner,
    )


def _grants(rows: Rows) -> dict[tuple[str, str, str, str, str], Grant]:
    """One Grant per (object, role) from the rows of single privileges."""
    held: dict[tuple[str, str, str, str, str], tuple[set[str], set[str]]] = {}
    for kind, schema, name, _, d in rows:
        if kind != "grant":
            continue
        key = (d["on"], schema or "", name, d["column"] or "", d["role"])
        privileges, grantable = held.setdefault(key, (set(), set()))
        privileges.add(d["privilege"])
        if d["grantable"]:
            grantable.add(d["privilege"])
    return {
        key: Grant(
            on=key[0],
            schema=key[1],
            name=key[2],
            column=key[3] or None,
            role=key[4],
            privileges=tuple(sorted(p)),
            grantable=tuple(sorted(g)),
        )
        for key, (p, g) in held.items()
    }


def _default_grants(rows: Rows) -> dict[tuple[str, str, str, str], DefaultGrant]:
    """What each pg_default_acl entry gives each grantee, where that is not what it gets
    without the entry (DefaultGrant.default_holding)."""
    out: dict[tuple[str, str, str, str], DefaultGrant] = {}
    for kind, schema, role, _, d in rows:
        if kind != "default_acl":
            continue
        held: dict[str, tuple[set[str], set[str]]] = {}
        base = DefaultGrant(role, schema or "", d["on"], role)
        for grantee in (role, "public"):  # those a database-wide default gives something
            if replace(base, grantee=grantee).default_holding():
                held[grantee] = (set(), set())
        for grantee, privilege, grantable in d["acl"]:
            privileges, options = held.setdefault(grantee, (set(), set()))
            privileges.add(privilege)
            if grantable:
                options.add(privilege)
        for grantee, (p, g) in held.items():
            found = replace(
                base, grantee=grantee, privileges=tuple(sorted(p)), grantable=tuple(sorted(g))
            )
            if (found.privileges, found.grantable) != (found.default_holding(), ()):
                out[found.key] = found
    return out


def _domain(schema: str, name: str, comment: str | None, details: dict[str, Any]) -> Domain:
    checks = tuple(
        Check(name=c["name"], expression=c["expression"], comment=c["comment"])
        for c in details["checks"]
    )
    return Domain(
        schema=schema,
        name=name,
        type=details["type"],
        not_null=details["not_null"],
        default=details["default"],
        collation=details["collation"],
        checks=checks,
        comment=comment,
    )


_POLICY_COMMAND = {"*": "all", "r": "select", "a": "insert", "w": "update", "d": "delete"}


def _policy(row: tuple[Any, ...]) -> Policy:
    schema, table, name, command, permissive, roles, using, check, comment = row
    return Policy(
        schema=schema,
        table=table,
        name=name,
        command=_POLICY_COMMAND[command],
        permissive=permissive,
        roles=tuple(sorted(roles)),
        using=using,
        check=check,
        comment=comment,
    )


# pg_trigger.tgtype bits (src/include/catalog/pg_trigger.h)
_TG_ROW, _TG_BEFORE, _TG_INSTEAD = 1, 2, 64
_TG_EVENTS = (("insert", 4), ("update", 16), ("delete", 8), ("truncate", 32))


def _trigger(row: tuple[Any, ...]) -> Trigger:
    from reconciler.sql.expressions import trigger_when  # deferred: pglast only for triggers

    schema, table, name, tgtype, columns, function, nargs, args, definition, comment = row[:10]
    is_constraint, deferrable, initially_deferred, from_schema, from_table = row[10:15]
    old_table, new_table, enabled = row[15:]
    timing = "instead of" if tgtype & _TG_INSTEAD else "before" if tgtype & _TG_BEFORE else "after"
    arguments = tuple(bytes(args).decode().split("\0")[:nargs]) if nargs else ()
    return Trigger(
        schema=schema,
        table=table,
        name=name,
        timing=timing,
        events=tuple(e for e, bit in _TG_EVENTS if tgtype & bit),
        function=function,
        level="row" if tgtype & _TG_ROW else "statement",
        columns=tuple(columns),
        when=trigger_when(definition),
        arguments=arguments,
        comment=comment,
        constraint=is_constraint,
        deferrable=deferrable,
        initially_deferred=initially_deferred,
        from_table=None if from_table is None else (from_schema, from_table),
        old_table=old_table,
        new_table=new_table,
        fires=_TG_FIRES[enabled],
    )


_TG_FIRES = {"O": "origin", "R": "replica", "A": "always", "D": "never"}

_VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}
_PARALLEL = {"s": "safe", "r": "restricted", "u": "unsafe"}


def _function(row: tuple[Any, ...]) -> Function:
    schema, name, types, arguments, returns, language, body, sql_body = row[:8]
    volatility, strict, secdef, leakproof, parallel, config, comment, cost, rows = row[8:17]
    uses, used_by, owner = row[17:]
    return Function(
        schema=schema,
        name=name,
        types=types,
        arguments=arguments,
        returns=returns,
        language=language,
        body=body,
        sql_body=sql_body,
        volatility=_VOLATILITY[volatility],
        strict=strict,
        security_definer=secdef,
        leakproof=leakproof,
        parallel=_PARALLEL[parallel],
        config=tuple(config),
        comment=comment,
        cost=cost,
        rows=rows,
        uses=tuple(tuple(parts) for parts in uses),
        used_by=tuple(tuple(parts) for parts in used_by),
        owner=owner,
    )


def _attnum(row: tuple[Any, ...]) -> int:
    return row[-1]


def _column(row: tuple[Any, ...]) -> Column:
    (
        _,
        _,
        name,
        type_,
        not_null,
        expression,
        generated,
        identity,
        collation,
        sequence,
        comment,
        *seq,
        _,
    ) = row
    # pg_attrdef holds a generated column's expression where other columns keep their default.
    # attgenerated is "s" (stored); PostgreSQL 18's virtual ("v") has no model field of its own.
    is_generated = generated != ""
    identity_ = _IDENTITY.get(identity)
    options: seqopts.Options = ()
    if (identity_ is not None or sequence is not None) and seq[0] is not None:
        start, increment, lo, hi, cache, cycle, seq_type, _ = seq
        options = seqopts.options(
            type_,
            start=start,
            increment=increment,
            lo=lo,
            hi=hi,
            cache=cache,
            cycle=cycle,
            as_type=None if identity_ else seq_type,  # an identity's is always its column's
        )
    return Column(
        name=name,
        type=type_,
        nullable=not not_null,
        default=None if is_generated else expression,
        identity=identity_,
        generated=expression if is_generated else None,
        collation=collation,
        comment=comment,
        sequence=None if identity_ else sequence,  # an identity's sequence is the identity's
        sequence_options=options,
        sequence_comment=None if identity_ else seq[-1],
    )


def _constraints(rows: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """One table's constraints by kind (primary key, uniques, checks, foreign keys,
    exclusions); rows come sorted by name, so each tuple is too."""
    primary_key = None
    uniques: list[Unique] = []
    checks: list[Check] = []
    foreign_keys: list[ForeignKey] = []
    exclusions: list[Exclusion] = []
    for row in rows:
        (
            _,
            _,
            name,
            kind,
            columns,
            deferrable,
            deferred,
            nulls_not_distinct,
            expression,
            ref_schema,
            ref_table,
            ref_columns,
            on_delete,
            on_update,
            match,
            comment,
            valid,
            no_inherit,
            valid_on,
            options,
        ) = row
        if kind == "p":
            primary_key = PrimaryKey(
                name=name,
                columns=tuple(columns),
                comment=comment,
                deferrable=deferrable,
                initially_deferred=deferred,
                options=tuple(options),
            )
        elif kind == "u":
            uniques.append(
                Unique(
                    name=name,
                    columns=tuple(columns),
                    deferrable=deferrable,
                    initially_deferred=deferred,
                    nulls_not_distinct=nulls_not_distinct,
                    comment=comment,
                    options=tuple(options),
                )
            )
        elif kind == "c":
            below = tuple((s, n) for s, n in valid_on or ())
            checks.append(
                Check(name, expression, comment, valid=valid, no_inherit=no_inherit, valid_on=below)
            )
        elif kind == "x":
            exclusions.append(Exclusion(name, expression, comment, columns=tuple(columns)))
        else:
            foreign_keys.append(
                ForeignKey(
                    name=name,
                    columns=tuple(columns),
                    ref_schema=ref_schema,
                    ref_table=ref_table,
                    ref_columns=tuple(ref_columns),
                    on_delete=_FK_ACTION[on_delete],
                    on_update=_FK_ACTION[on_update],
                    match_full=match == "f",
                    deferrable=deferrable,
                    initially_deferred=deferred,
                    comment=comment,
                    valid=valid,
                )
            )
    return primary_key, tuple(uniques), tuple(checks), tuple(foreign_keys), tuple(exclusions)


def _index(row: tuple[Any, ...]) -> Index:
    (
        schema,
        table,
        name,
        method,
        unique,
        options,
        columns,
        expressions,
        opclasses,
        collations,
        include,
        where,
        nulls_not_distinct,
        comment,
        valid,
        storage,
    ) = row
    elements = tuple(
        _index_element(*parts)
        for parts in zip(columns, expressions, options, opclasses, collations, strict=True)
    )
    return Index(
        schema=schema,
        table=table,
        name=name,
        elements=elements,
        unique=unique,
        method=method,
        where=where,
        include=tuple(include),
        nulls_not_distinct=nulls_not_distinct,
        comment=comment,
        options=tuple(storage),
        valid=valid,
    )


def _index_element(
    column: str | None,
    expression: str | None,
    option: int,
    opclass: str | None,
    collation: str | None,
) -> IndexElement:
    descending = bool(option & _INDOPTION_DESC)
    nulls_first = bool(option & _INDOPTION_NULLS_FIRST)
    # Postgres' default is NULLS LAST for ASC and NULLS FIRST for DESC; the model writes a
    # default as None so that `nulls: last` on an ascending column is not a difference.
    nulls = None if nulls_first == descending else ("first" if nulls_first else "last")
    return IndexElement(
        column=column,
        expression=expression,
        order="desc" if descending else "asc",
        nulls=nulls,
        opclass=opclass,
        collation=collation,
    )
