"""The `rules:` of exported tables and views: each as the YAML that loads back to it."""

from __future__ import annotations

from typing import Any

from reconciler.export.pg.yamlfile import Block
from reconciler.model.pg_rules import Rule
from reconciler.model.snapshot import PgSnapshot


def rules_by_relation(snap: PgSnapshot) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every table's and view's rules as YAML entries, by (schema, relation), sorted by name."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for (schema, table, _), r in sorted(snap.rules.items()):
        out.setdefault((schema, table), []).append(rule_document(r))
    return out


def rule_document(r: Rule) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": r.name, "event": r.event}
    if r.instead:
        doc["instead"] = True
    if r.where is not None:
        doc["where"] = Block(r.where)
    if len(r.actions) == 1:
        doc["do"] = Block(r.actions[0])
    elif r.actions:
        doc["do"] = [Block(a) for a in r.actions]
    if r.fires != "origin":
        doc["fires"] = r.fires
    if r.comment is not None:
        doc["comment"] = r.comment
    return doc
