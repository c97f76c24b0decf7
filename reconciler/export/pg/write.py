"""export: the live database as desired-state YAML (to import a system that already runs).

Every attribute and every name is written explicitly, so loading the files gives back exactly
the live snapshot whatever the naming defaults are: applying an export to an empty database
reproduces the schema, and planning it against its source shows no changes.
Owns: which file each object goes to and writing them all or none (`export`). The documents
come from tables.py, objects.py, grants.py, aggregates.py and rules.py; the file conventions
from yamlfile.py.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from reconciler.export.pg.aggregates import write_aggregates
from reconciler.export.pg.grants import (
    Lookup,
    add_sequence_grants,
    add_type_grants,
    default_privileges_document,
    grants_document,
)
from reconciler.export.pg.objects import (
    collation_document,
    domain_document,
    function_document,
    sequence_document,
)
from reconciler.export.pg.rules import rules_by_relation
from reconciler.export.pg.tables import table_document, view_document
from reconciler.export.pg.yamlfile import Files, drop_none, file_name
from reconciler.model.pg_grants import Grant
from reconciler.model.snapshot import PgSnapshot

# Every part this export writes (write_aggregates' aggregates/ too): a file in one of them
# that this export does not write again is moved aside.
_PARTS = ("tables", "types", "views", "functions", "aggregates", "sequences")
_PARTS += ("extensions.yaml", "schemas.yaml", "collations.yaml", "default_privileges.yaml")


def export(snap: PgSnapshot, out_dir: Path, *, moved: list[Path] | None = None) -> list[Path]:
    """Write the snapshot as YAML under out_dir, whole or not at all.

    Everything is written into a staging folder beside out_dir first and moved into place at
    the end, so a run killed while it reads and writes leaves out_dir as it was. A file of the
    parts export writes (tables/, types/, views/, functions/, aggregates/, sequences/,
    extensions.yaml, schemas.yaml, collations.yaml, default_privileges.yaml) that this export
    does not write again — an object dropped since, or a file written by hand — is never
    deleted: it is moved beside out_dir, to `.<name>.replaced/<UTC stamp>/` (outside it: every
    YAML under out_dir is desired state), and appended to `moved`. Other files and folders
    (keys/, notes) are left alone."""
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
        _move_in(stage, out_dir, sorted(new))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return [out_dir / p.relative_to(stage) for p in written]


def _move_in(stage: Path, out_dir: Path, new: list[Path]) -> None:
    """Move the staged files (paths relative to `stage`, sorted) into out_dir: a part out_dir
    does not have yet (tables/ on a first export) in one rename, the others file by file."""
    folders: set[Path] = set()
    moved_whole: set[str] = set()
    for rel in new:
        part = rel.parts[0]
        if part in moved_whole:
            continue
        if len(rel.parts) > 1 and not os.path.lexists(out_dir / part):
            os.replace(stage / part, out_dir / part)
            moved_whole.add(part)
            continue
        target = out_dir / rel
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        os.replace(stage / rel, target)


def _write(snap: PgSnapshot, out_dir: Path) -> list[Path]:
    snap = snap.normalize()
    look = Lookup(snap)
    rules = rules_by_relation(snap)
    with Files() as files:
        dump = files.dump
        if snap.extensions:
            exts = [
                drop_none({"name": e.name, "schema": e.schema, "version": e.version})
                for e in snap.extensions.values()
            ]
            dump(out_dir / "extensions.yaml", {"extensions": exts})
        schemas = [
            drop_none(
                {
                    "name": s.name,
                    "comment": s.comment,
                    "grants": grants_document(look.grants(("schema",), "", s.name)),
                    "privileges": "exact",  # the export lists every grant held in the schema
                }
            )
            for s in snap.schemas.values()
        ]
        dump(out_dir / "schemas.yaml", {"schemas": schemas})
        if snap.collations:
            collations = [collation_document(c) for c in snap.collations.values()]
            dump(out_dir / "collations.yaml", {"collations": collations})
        if snap.default_grants:
            doc = {"default_privileges": default_privileges_document(snap)}
            dump(out_dir / "default_privileges.yaml", doc)
        taken: set[str] = set()
        for (schema, name), e in snap.enums.items():
            path = out_dir / "types" / file_name(schema, name, taken)
            doc = {"name": name, "schema": schema, "values": list(e.labels)}
            if e.comment is not None:
                doc["comment"] = e.comment
            add_type_grants(look, schema, name, doc)
            dump(path, {"enums": [doc]})
        for (schema, name), d in snap.domains.items():
            path = out_dir / "types" / file_name(schema, name, taken)
            dump(path, {"domains": [add_type_grants(look, schema, name, domain_document(d))]})
        for (schema, name), ct in snap.composites.items():
            path = out_dir / "types" / file_name(schema, name, taken)
            attributes = [
                drop_none({"name": n, "type": t, "collation": c}) for n, t, c in ct.attributes
            ]
            doc = drop_none(
                {"name": name, "schema": schema, "attributes": attributes, "comment": ct.comment}
            )
            dump(path, {"composite_types": [add_type_grants(look, schema, name, doc)]})
        taken = set()
        for (schema, name), q in snap.sequences.items():
            path = out_dir / "sequences" / file_name(schema, name, taken)
            doc = sequence_document(q)
            if grants := grants_document(look.grants(("sequence",), schema, name)):
                doc["grants"] = grants
            dump(path, {"sequences": [doc]})
        taken = set()
        for (schema, name), t in snap.tables.items():
            path = out_dir / "tables" / file_name(schema, name, taken)
            key = (schema, name)
            doc = table_document(
                t, look.indexes.get(key, []), look.triggers.get(key, []), look.policies.get(key, [])
            )
            if grants := grants_document(look.grants(("table", "column"), schema, name)):
                doc["grants"] = grants
            add_sequence_grants(look, t, doc)
            if key in rules:
                doc["rules"] = rules[key]
            dump(path, doc)
        taken = set()
        for (schema, name), v in snap.views.items():
            path = out_dir / "views" / file_name(schema, name, taken)
            key = (schema, name)
            doc = view_document(v, look.indexes.get(key, []), look.triggers.get(key))
            if key in rules:
                doc["rules"] = rules[key]
            if grants := grants_document(look.grants(("table", "column"), schema, name)):
                doc["grants"] = grants
            dump(path, {"views": [doc]})
        taken = set()
        for (schema, name, _), f in snap.functions.items():
            path = out_dir / "functions" / file_name(schema, name, taken)
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
            dump(path, {"functions": [doc]})
        write_aggregates(snap, out_dir, files)
    return files.written
