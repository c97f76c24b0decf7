"""Rewrite rules (CREATE RULE) on tables and views. Same rules as model/pg.py: exact catalog
names, texts in the server's spelling once canonical. A view's own `_RETURN` rule is the view
itself, never a Rule."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.model.address import Address
from reconciler.model.pg import reduce_by_fields

RULE_EVENTS = ("insert", "update", "delete")  # ON SELECT is a view's _RETURN only


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule on a table or view. `where` is the condition (WHERE) and `actions` the commands
    (none: DO NOTHING) as pg_get_ruledef prints them, once canonical; `reads` are the
    relations and columns they name, as (schema, relation, column or None): from pg_depend
    for a live rule, from the parsed commands (relations only) for a desired one. `fires`
    says when it fires (ALTER TABLE … ENABLE [REPLICA | ALWAYS] / DISABLE RULE)."""

    schema: str
    table: str
    name: str
    event: str  # insert | update | delete
    instead: bool = False  # DO INSTEAD (else DO ALSO)
    where: str | None = None
    actions: tuple[str, ...] = ()
    fires: str = "origin"  # origin | replica | always | never (ev_enabled O, R, A, D)
    comment: str | None = None
    reads: tuple[tuple[str, str, str | None], ...] = field(default=(), compare=False)
    source: str | None = field(default=None, compare=False)

    @property
    def address(self) -> Address:
        return Address.of("pg", "rule", self.schema, self.table, self.name)

    @property
    def table_address(self) -> Address:
        return Address.of("pg", "table", self.schema, self.table)


Rule.__reduce__ = reduce_by_fields  # type: ignore[method-assign]
