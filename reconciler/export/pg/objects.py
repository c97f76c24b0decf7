"""Collations, domains, sequences and functions as the YAML documents that load back to them.

Must not: write files (write.py does) or add grants (grants.py).
"""

from __future__ import annotations

from typing import Any

from reconciler.export.pg.yamlfile import Block, drop_none
from reconciler.model.names import qualified
from reconciler.model.pg_objects import Collation, Domain, Function, Sequence


def collation_document(c: Collation) -> dict[str, Any]:
    return drop_none(
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


def domain_document(d: Domain) -> dict[str, Any]:
    checks = [
        drop_none({"name": k.name, "expression": k.expression, "comment": k.comment})
        for k in d.checks
    ]
    return drop_none(
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
    return drop_none(
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
    doc["body"] = Block(f.body)
    return doc
