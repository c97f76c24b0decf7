"""Catalog rows → model values: how each kind's query result becomes the PgSnapshot.

The queries and their reading live in catalog.py; everything here is pure data shaping,
kept exactly in the normalized forms the model documents (see catalog.py's header). Tables,
their columns, constraints and indexes are shaped in table_rows.py, aggregates and rules in
aggregate_rows.py and rule_text.py; the rest of the kinds here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.introspect.pg.aggregate_rows import aggregate_from_row
from reconciler.introspect.pg.rule_text import rule_from_row
from reconciler.introspect.pg.table_rows import Rows, index_from_row, tables_from_rows
from reconciler.model.address import Address
from reconciler.model.pg import (
    Check,
    Enum,
    Extension,
    Schema,
)
from reconciler.model.pg_grants import DefaultGrant, Grant
from reconciler.model.pg_objects import (
    Collation,
    CompositeType,
    Domain,
    Function,
    Policy,
    Trigger,
    View,
    view_options,
)
from reconciler.model.pg_objects import Sequence as PgSequence
from reconciler.model.snapshot import PgSnapshot

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
        tables=tables_from_rows(rows["tables"], rows["columns"], rows["constraints"]),
        indexes={(row[0], row[2]): index_from_row(row) for row in rows["indexes"]},
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
