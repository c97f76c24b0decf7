"""export: the live database as desired-state YAML (to import a system that already runs).

Every attribute and every name is written explicitly, so loading the files gives back exactly
the live snapshot whatever the naming defaults are: applying an export to an empty database
reproduces the schema, and planning it against its source shows no changes.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from reconciler.export.pg.aggregates import write_aggregates
from reconciler.export.pg.rules import rules_by_relation
from reconciler.model.names import make_object_name, qualified, split_qualified
from reconciler.model.pg import Column, ForeignKey, Index, IndexElement, Table
from reconciler.model.pg_objects import (
    Collation,
    Domain,
    Function,
    Grant,
    Policy,
    Sequence,
    Trigger,
    View,
)
from reconciler.model.snapshot import PgSnapshot

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != () and v != []}


def _column(c: Column) -> dict[str, Any]:
    return _drop_none(
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
    return _drop_none(
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
    return _drop_none(
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
    return _drop_none(
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


def grants_document(grants: list[Grant]) -> list[dict[str, Any]]:
    """`grants:` entries of one object; a role's column privileges held alike share one."""
    merged: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
    out: list[dict[str, Any]] = []
    for g in sorted(grants, key=lambda g: (g.role, g.column or "")):
        if g.column is None:
            out.append(_grant_entry(g.role, g.privileges, g.grantable, None))
        else:
            merged.setdefault((g.role, g.privileges, g.grantable), []).append(g.column)
    out += [_grant_entry(r, p, o, cols) for (r, p, o), cols in merged.items()]
    return out


def _grant_entry(
    role: str, privileges: tuple[str, ...], grantable: tuple[str, ...], columns: list[str] | None
) -> dict[str, Any]:
    option: bool | list[str] | None = None
    if grantable:
        option = True if grantable == privileges else list(grantable)
    # `privileges: []` is kept: it says the role holds nothing (PUBLIC on a routine)
    rest = _drop_none({"columns": columns, "with_grant_option": option})
    return {"role": role, "privileges": list(privileges), **rest}


def _add_sequence_grants(look: _Lookup, t: Table, doc: dict[str, Any]) -> None:
    """`sequence_grants:` on each column whose owned (serial) or identity sequence has grants
    (an identity's by the name a CREATE gives it: introspection reports others unsupported)."""
    for c, entry in zip(t.columns, doc.get("columns", ()), strict=False):
        names = split_qualified(c.sequence) if c.sequence else ()
        if c.identity:
            names = (t.schema, make_object_name(t.name, c.name, "seq"))
        if len(names) == 2 and (grants := grants_document(look.grants(("sequence",), *names))):
            entry["sequence_grants"] = grants


def _add_type_grants(look: _Lookup, schema: str, name: str, doc: dict[str, Any]) -> dict[str, Any]:
    """`grants:` of a type, PUBLIC's always when read from a database (CREATE TYPE gives it
    USAGE: a live type without it had it taken away; a desired one leaves PUBLIC alone)."""
    grants = grants_document(look.grants(("type",), schema, name))
    if look.live and not any(g["role"] == "public" for g in grants):  # USAGE taken away
        grants.append(_grant_entry("public", (), (), None))
    if grants:
        doc["grants"] = grants
    return doc


class _Lookup:
    """What belongs to each object, grouped in one pass (a scan per object is quadratic)."""

    def __init__(self, snap: PgSnapshot) -> None:
        # An index left invalid by an interrupted build serves no query: not exported. (A
        # partitioned table's is invalid until every partition has one attached: exported.)
        parted = {k for k, t in snap.tables.items() if t.partition_by is not None}
        self.indexes = {
            key: [ix for ix in found if ix.valid or key in parted]
            for key, found in snap.indexes_by_table().items()
        }
        self.triggers: dict[tuple[str, str], list[Trigger]] = {}
        for (schema, table, _), tg in snap.triggers.items():
            self.triggers.setdefault((schema, table), []).append(tg)
        self.policies: dict[tuple[str, str], list[Any]] = {}
        for (schema, table, _), p in snap.policies.items():
            self.policies.setdefault((schema, table), []).append(p)
        self.live = bool(snap.creator)  # read from a database (introspect sets who read it)
        self._grants: dict[tuple[str, str], list[Grant]] = {}
        for g in snap.grants.values():
            self._grants.setdefault((g.schema, g.name), []).append(g)

    def grants(self, on: tuple[str, ...], schema: str, name: str) -> list[Grant]:
        return [g for g in self._grants.get((schema, name), ()) if g.on in on]


def _trigger(t: Trigger) -> dict[str, Any]:
    return _drop_none(
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
    return _drop_none(
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
        doc["primary_key"] = _drop_none(
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
            _drop_none(
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
            _drop_none(
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
            _drop_none({"name": x.name, "definition": x.definition, "comment": x.comment})
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


def _file_name(schema: str, name: str, taken: set[str]) -> str:
    base = name if schema == "public" else f"{schema}.{name}"
    stem = _SAFE.sub("_", base).strip("._") or "object"
    candidate, n = stem, 2
    while candidate.lower() in taken:  # case-insensitive file systems, sanitized collisions
        candidate, n = f"{stem}_{n}", n + 1
    taken.add(candidate.lower())
    return f"{candidate}.yaml"


# libyaml's emitter when PyYAML was built with it: the pure-Python one took most of an
# export's time (6 of 8 s at 1,000 tables under a profiler). Both write the same text.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(doc, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")


_PARTS = ("tables", "types", "views", "functions", "sequences", "extensions.yaml", "schemas.yaml")
_PARTS += ("collations.yaml", "default_privileges.yaml")


def export(snap: PgSnapshot, out_dir: Path, *, moved: list[Path] | None = None) -> list[Path]:
    """Write the snapshot as YAML under out_dir, whole or not at all.

    Everything is written into a staging folder beside out_dir first and moved into place at
    the end, so a run killed while it reads and writes leaves out_dir as it was. A file of the
    parts export writes (tables/, types/, views/, functions/, sequences/, extensions.yaml,
    schemas.yaml, collations.yaml, default_privileges.yaml) that this export does not write
    again — an object dropped since, or a file written by hand — is never deleted: it is moved
    beside out_dir, to `.<name>.replaced/<UTC stamp>/` (outside it: every YAML under out_dir
    is desired state), and appended to `moved`. Other files and folders (keys/, notes) are
    left alone."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.export-", dir=out_dir.parent))
    try:
        written = _write(snap, stage)
        new = {p.relative_to(stage) for p in written}
        stale = [
            old
            for part in _PARTS
            for old in ([out_dir / part] if (out_dir / part).is_file() else [])
            + sorted(p for p in (out_dir / part).rglob("*") if p.is_file())
            if old.relative_to(out_dir) not in new
        ]
        if stale:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = out_dir.parent / f".{out_dir.name}.replaced" / stamp
            for old in stale:
                target = aside / old.relative_to(out_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(old, target)
                if moved is not None:
                    moved.append(target)
        for rel in sorted(new):
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / rel, out_dir / rel)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return [out_dir / p.relative_to(stage) for p in written]


def _write(snap: PgSnapshot, out_dir: Path) -> list[Path]:
    snap = snap.normalize()
    look = _Lookup(snap)
    rules = rules_by_relation(snap)
    written: list[Path] = []
    if snap.extensions:
        exts = [
            _drop_none({"name": e.name, "schema": e.schema, "version": e.version})
            for e in snap.extensions.values()
        ]
        written.append(out_dir / "extensions.yaml")
        _dump(written[-1], {"extensions": exts})
    schemas = [
        _drop_none(
            {
                "name": s.name,
                "comment": s.comment,
                "grants": grants_document(look.grants(("schema",), "", s.name)),
                "privileges": "exact",  # the export lists every grant held in the schema
            }
        )
        for s in snap.schemas.values()
    ]
    written.append(out_dir / "schemas.yaml")
    _dump(written[-1], {"schemas": schemas})
    if snap.collations:
        written.append(out_dir / "collations.yaml")
        collations = [collation_document(c) for c in snap.collations.values()]
        _dump(written[-1], {"collations": collations})
    if snap.default_grants:
        written.append(out_dir / "default_privileges.yaml")
        _dump(written[-1], {"default_privileges": default_privileges_document(snap)})
    taken: set[str] = set()
    for (schema, name), e in snap.enums.items():
        path = out_dir / "types" / _file_name(schema, name, taken)
        doc = {"name": name, "schema": schema, "values": list(e.labels)}
        if e.comment is not None:
            doc["comment"] = e.comment
        _add_type_grants(look, schema, name, doc)
        _dump(path, {"enums": [doc]})
        written.append(path)
    for (schema, name), d in snap.domains.items():
        path = out_dir / "types" / _file_name(schema, name, taken)
        _dump(path, {"domains": [_add_type_grants(look, schema, name, domain_document(d))]})
        written.append(path)
    for (schema, name), ct in snap.composites.items():
        path = out_dir / "types" / _file_name(schema, name, taken)
        attributes = [
            _drop_none({"name": n, "type": t, "collation": c}) for n, t, c in ct.attributes
        ]
        doc = _drop_none(
            {"name": name, "schema": schema, "attributes": attributes, "comment": ct.comment}
        )
        _dump(path, {"composite_types": [_add_type_grants(look, schema, name, doc)]})
        written.append(path)
    taken = set()
    for (schema, name), q in snap.sequences.items():
        path = out_dir / "sequences" / _file_name(schema, name, taken)
        doc = sequence_document(q)
        if grants := grants_document(look.grants(("sequence",), schema, name)):
            doc["grants"] = grants
        _dump(path, {"sequences": [doc]})
        written.append(path)
    taken = set()
    for (schema, name), t in snap.tables.items():
        path = out_dir / "tables" / _file_name(schema, name, taken)
        key = (schema, name)
        doc = table_document(
            t, look.indexes.get(key, []), look.triggers.get(key, []), look.policies.get(key, [])
        )
        if grants := grants_document(look.grants(("table", "column"), schema, name)):
            doc["grants"] = grants
        _add_sequence_grants(look, t, doc)
        if key in rules:
            doc["rules"] = rules[key]
        _dump(path, doc)
        written.append(path)
    taken = set()
    for (schema, name), v in snap.views.items():
        path = out_dir / "views" / _file_name(schema, name, taken)
        key = (schema, name)
        doc = view_document(v, look.indexes.get(key, []), look.triggers.get(key))
        if key in rules:
            doc["rules"] = rules[key]
        if grants := grants_document(look.grants(("table", "column"), schema, name)):
            doc["grants"] = grants
        _dump(path, {"views": [doc]})
        written.append(path)
    taken = set()
    for (schema, name, _), f in snap.functions.items():
        path = out_dir / "functions" / _file_name(schema, name, taken)
        doc = function_document(f)
        signature = f"{f.name}({f.types})"
        held = look.grants(("function",), schema, signature)
        if look.live and not any(g.role == "public" for g in held):
            # read from a database's effective ACL: PUBLIC missing holds nothing, which must
            # be said, as a created routine starts with PUBLIC holding EXECUTE (a desired
            # state that does not name PUBLIC leaves it alone)
            held = [
                *held,
                Grant(on="function", schema=schema, name=signature, column=None, role="public"),
            ]
        if grants := grants_document(held):
            doc["grants"] = grants
        _dump(path, {"functions": [doc]})
        written.append(path)
    return written + write_aggregates(snap, out_dir)


def collation_document(c: Collation) -> dict[str, Any]:
    return _drop_none(
        {
            "name": c.name,
            "schema": c.schema,
            "provider": c.provider,
            "locale": c.locale,
            "lc_collate": c.lc_collate,
            "lc_ctype": c.lc_ctype,
            "deterministic": None if c.deterministic else False,
            "comment": c.comment,
        }
    )


def default_privileges_document(snap: PgSnapshot) -> list[dict[str, Any]]:
    """`default_privileges:` entries, one per (creating role, schema, kind)."""
    entries: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for d in snap.default_grants.values():
        entry = _grant_entry(d.grantee, d.privileges, d.grantable, None)
        entries.setdefault((d.role, d.schema, d.on), []).append(entry)
    return [
        _drop_none({"for_role": role, "schema": schema or None, "on": on, "grants": grants})
        | {"grants": grants}
        for (role, schema, on), grants in entries.items()
    ]


def domain_document(d: Domain) -> dict[str, Any]:
    checks = [
        _drop_none({"name": k.name, "expression": k.expression, "comment": k.comment})
        for k in d.checks
    ]
    return _drop_none(
        {
            "name": d.name,
            "schema": d.schema,
            "type": d.type,
            "not_null": d.not_null or None,
            "default": d.default,
            "collation": d.collation,
            "checks": checks,
            "comment": d.comment,
        }
    )


def sequence_document(q: Sequence) -> dict[str, Any]:
    inc = int(q.increment)
    lo, hi = Sequence.bounds(q.type, inc, None, None)
    start = lo if inc > 0 else hi
    return _drop_none(
        {
            "name": q.name,
            "schema": q.schema,
            "type": None if q.type == "bigint" else q.type,
            "start": None if int(q.start) == start else q.start,
            "increment": None if inc == 1 else q.increment,
            "min": None if int(q.min) == lo else q.min,
            "max": None if int(q.max) == hi else q.max,
            "cache": None if q.cache == "1" else q.cache,
            "cycle": q.cycle or None,
            "owned_by": qualified(*q.owned_by) if q.owned_by else None,
            "comment": q.comment,
        }
    )


def function_document(f: Function) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": f.name, "schema": f.schema}
    if f.is_procedure:
        doc["kind"] = "procedure"
    if f.arguments:
        doc["arguments"] = f.arguments
    if f.returns is not None:
        doc["returns"] = f.returns
    doc["language"] = f.language
    for key, default in (("volatility", "volatile"), ("parallel", "unsafe")):
        if getattr(f, key) != default and not f.is_procedure:
            doc[key] = getattr(f, key)
    for key in ("strict", "security_definer", "leakproof"):
        if getattr(f, key):
            doc[key] = True
    if f.config:
        doc["set"] = dict(entry.split("=", 1) for entry in f.config)
    for key in ("cost", "rows"):
        if (value := getattr(f, key)) is not None:
            doc[key] = value
    if f.comment is not None:
        doc["comment"] = f.comment
    doc["body"] = _Block(f.body)
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
    doc["query"] = _Block(v.query)
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


class _Block(str):
    """A multi-line text written as a YAML literal block (`|`), as the server prints it."""


def _block(dumper: yaml.SafeDumper, value: _Block) -> yaml.ScalarNode:
    # A literal block keeps every line as it is; PyYAML falls back to a quoted scalar by
    # itself where a block cannot hold the text exactly (trailing spaces, tabs).
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style=style)


yaml.SafeDumper.add_representer(_Block, _block)
_DUMPER.add_representer(_Block, _block)
