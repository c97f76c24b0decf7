"""A table or a view as the YAML document that loads back to it: columns, keys, checks,
foreign keys, exclusions, indexes, triggers, policies and storage options.

Every attribute and every name is written explicitly (defaults left out), so loading the
document gives back exactly the live value whatever the naming defaults are.
Must not: write files (write.py does) or add grants and rules (grants.py, rules.py).
"""

from __future__ import annotations

from typing import Any

from reconciler.export.pg.yamlfile import Block, drop_none
from reconciler.model.names import qualified
from reconciler.model.pg import Column, ForeignKey, Index, IndexElement, Table
from reconciler.model.pg_objects import Policy, Trigger, View


def _column(c: Column) -> dict[str, Any]:
    return drop_none(
        {
            "name": c.name,
            "type": c.type,
            "nullable": None if c.nullable else False,
            "default": c.default,
            "identity": c.identity,
            "generated": c.generated,
            "collation": c.collation,
            "sequence": c.sequence,
            "sequence_options": _sequence_options(c) or None,
            "sequence_comment": c.sequence_comment,
            "comment": c.comment,
        }
    )


def _sequence_options(c: Column) -> dict[str, Any]:
    """Only the options that differ from the defaults, numbers as integers."""
    return {
        k: v == "true" if k == "cycle" else v if k == "type" else int(v)
        for k, v in c.sequence_options
    }


def _table_ref(schema: str, ref_schema: str, ref_table: str) -> Any:
    """A table named from a table of `schema`: its bare name when that is unambiguous."""
    if ref_schema == schema and "." not in ref_table:
        return ref_table
    return {"schema": ref_schema, "table": ref_table}


def _fk(fk: ForeignKey) -> dict[str, Any]:
    return drop_none(
        {
            "name": fk.name,
            "columns": list(fk.columns),
            "references": {
                "schema": fk.ref_schema,
                "table": fk.ref_table,
                "columns": list(fk.ref_columns),
            },
            "on_delete": None if fk.on_delete == "no action" else fk.on_delete,
            "on_update": None if fk.on_update == "no action" else fk.on_update,
            "match": "full" if fk.match_full else None,
            "deferrable": fk.deferrable or None,
            "initially_deferred": fk.initially_deferred or None,
            "comment": fk.comment,
            "valid": None if fk.valid else False,
        }
    )


def _element(e: IndexElement) -> Any:
    if e.column is not None and e.order == "asc" and not (e.nulls or e.opclass or e.collation):
        return e.column
    return drop_none(
        {
            "column": e.column,
            "expression": e.expression,
            "order": None if e.order == "asc" else e.order,
            "nulls": e.nulls,
            "opclass": e.opclass,
            "collation": e.collation,
        }
    )


def _index(ix: Index) -> dict[str, Any]:
    return drop_none(
        {
            "name": ix.name,
            "columns": [_element(e) for e in ix.elements],
            "unique": ix.unique or None,
            "method": None if ix.method == "btree" else ix.method,
            "where": ix.where,
            "include": list(ix.include),
            "nulls_not_distinct": ix.nulls_not_distinct or None,
            "comment": ix.comment,
            "options": _options(ix.options),
        }
    )


def _trigger(t: Trigger) -> dict[str, Any]:
    return drop_none(
        {
            "name": t.name,
            "timing": t.timing,
            "events": list(t.events),
            "columns": list(t.columns),
            "for_each": None if t.level == "row" else t.level,
            "when": t.when,
            "function": t.function,
            "arguments": list(t.arguments),
            "comment": t.comment,
            "constraint": t.constraint or None,
            "deferrable": t.deferrable or None,
            "initially_deferred": t.initially_deferred or None,
            "from": qualified(*t.from_table) if t.from_table is not None else None,
            "old_table": t.old_table,
            "new_table": t.new_table,
            "fires": None if t.fires == "origin" else t.fires,
        }
    )


def _policy(p: Policy) -> dict[str, Any]:
    return drop_none(
        {
            "name": p.name,
            "command": None if p.command == "all" else p.command,
            "permissive": None if p.permissive else False,
            "roles": None if p.roles == ("public",) else list(p.roles),
            "using": p.using,
            "check": p.check,
            "comment": p.comment,
        }
    )


def table_document(
    t: Table,
    indexes: list[Index],
    triggers: list[Trigger] | None = None,
    policies: list[Policy] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"table": t.name, "schema": t.schema}
    if t.comment is not None:
        doc["comment"] = t.comment
    if t.partition_of is not None:  # its columns are the parent's
        doc["partition_of"] = {"schema": t.partition_of[0], "table": t.partition_of[1]}
        doc["bound"] = t.bound
        if t.attached_indexes:
            doc["attached_indexes"] = dict(t.attached_indexes)
        if t.not_null:
            doc["not_null"] = list(t.not_null)
    else:
        doc["columns"] = [_column(c) for c in t.columns]
    if t.partition_by is not None:
        doc["partition_by"] = t.partition_by
    if t.primary_key:
        pk = t.primary_key
        doc["primary_key"] = drop_none(
            {
                "name": pk.name,
                "columns": list(pk.columns),
                "comment": pk.comment,
                "deferrable": pk.deferrable or None,
                "initially_deferred": pk.initially_deferred or None,
                "options": _options(pk.options),
            }
        )
    if t.uniques:
        doc["unique"] = [
            drop_none(
                {
                    "name": u.name,
                    "columns": list(u.columns),
                    "deferrable": u.deferrable or None,
                    "initially_deferred": u.initially_deferred or None,
                    "nulls_not_distinct": u.nulls_not_distinct or None,
                    "comment": u.comment,
                    "options": _options(u.options),
                }
            )
            for u in t.uniques
        ]
    if t.checks:
        doc["checks"] = [
            drop_none(
                {
                    "name": k.name,
                    "expression": k.expression,
                    "comment": k.comment,
                    "valid": None if k.valid else False,
                    "no_inherit": k.no_inherit or None,
                    "valid_on": [_table_ref(t.schema, s, n) for s, n in k.valid_on] or None,
                }
            )
            for k in t.checks
        ]
    if t.exclusions:
        doc["exclusions"] = [
            drop_none({"name": x.name, "definition": x.definition, "comment": x.comment})
            for x in t.exclusions
        ]
    if t.foreign_keys:
        doc["foreign_keys"] = [_fk(fk) for fk in t.foreign_keys]
    if indexes:
        doc["indexes"] = [_index(ix) for ix in sorted(indexes, key=lambda i: i.name)]
    if triggers:
        doc["triggers"] = [_trigger(tg) for tg in sorted(triggers, key=lambda tg: tg.name)]
    if t.inherits:
        doc["inherits"] = [{"schema": s, "table": n} for s, n in t.inherits]
    if t.row_security != "off":
        doc["row_security"] = "forced" if t.force_row_security else t.row_security
    elif t.force_row_security:
        doc["force_row_security"] = True
    if t.unlogged:
        doc["unlogged"] = True
    if t.options:
        doc["options"] = _options(t.options)
    if t.replica_identity == "index":
        doc["replica_identity_index"] = t.replica_identity_index
    elif t.replica_identity != "default":
        doc["replica_identity"] = t.replica_identity
    if policies:
        doc["policies"] = [_policy(p) for p in sorted(policies, key=lambda p: p.name)]
    return doc


def view_document(
    v: View, indexes: list[Index], triggers: list[Trigger] | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": v.name, "schema": v.schema}
    if v.materialized:
        doc["materialized"] = True
    if v.comment is not None:
        doc["comment"] = v.comment
    if v.options:
        doc["options"] = _options(v.options)
    if v.column_comments:
        doc["column_comments"] = dict(v.column_comments)
    doc["query"] = Block(v.query)
    if indexes:
        doc["indexes"] = [_index(ix) for ix in sorted(indexes, key=lambda i: i.name)]
    if triggers:
        doc["triggers"] = [_trigger(tg) for tg in sorted(triggers, key=lambda tg: tg.name)]
    return doc


def _options(options: tuple[str, ...]) -> dict[str, str | bool] | None:
    """`options:` of a table, view, index or key: `name=value` texts as a mapping, in order."""
    return {k: _option_value(x) for k, _, x in (o.partition("=") for o in options)} or None


def _option_value(text: str) -> str | bool:
    return {"true": True, "false": False}.get(text, text)
