"""A column on the move (ops/pg/phased.py): from its live self to its desired self.

The value every phase change holds, and the names of what the move adds while it lasts: the
new column, the trigger and its function (in the tool's schema), index copies, a NOT NULL
check. The new column's comment is a JSON marker saying which move it serves and how far it
got; read_marker reads it back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.pg import Column, Index
from reconciler.ops.base import Statement
from reconciler.sql.render import ident, literal

MARK = "reconciler:phased"
TOOL_SCHEMA = "reconciler"


@dataclass(frozen=True, slots=True)
class Move:
    """One column going from `source` (live) to `target` (desired) on a large table."""

    schema: str
    table: str
    source: Column
    target: Column
    via_text: bool = False  # an enum converts through text
    indexes: tuple[Index, ...] = ()  # plain indexes on the source, rebuilt on the new column
    key: tuple[str, str] | None = None  # (constraint name, "PRIMARY KEY" | "UNIQUE") on it alone

    @property
    def rename(self) -> bool:
        return self.source.name != self.target.name

    @property
    def tag(self) -> str:
        text = f"{self.schema}.{self.table}.{self.source.name}.{self.target.name}"
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def new_column(self) -> str:
        """The new column's name while both exist."""
        if self.rename:
            return self.target.name
        return f"{_clip(self.source.name, 40)}__new_{self.tag[:8]}"

    @property
    def table_sql(self) -> str:
        return ident(self.schema, self.table)

    @property
    def function(self) -> str:
        return ident(TOOL_SCHEMA, f"sync_{self.tag}")

    @property
    def trigger(self) -> str:
        return ident(f"reconciler_sync_{self.tag}")

    @property
    def not_null_check(self) -> str:
        return f"reconciler_nn_{self.tag}"

    def index_copy(self, ix: Index) -> Index:
        """`ix` on the new column, under a temporary name."""
        digest = hashlib.sha256(f"{self.tag}.{ix.name}".encode()).hexdigest()[:8]
        return self.on_column(ix, self.new_column, f"{_clip(ix.name, 40)}__new_{digest}")

    def on_column(self, ix: Index, column: str, name: str) -> Index:
        elements = tuple(
            dataclasses.replace(e, column=column) if e.column == self.source.name else e
            for e in ix.elements
        )
        return dataclasses.replace(ix, name=name, elements=elements, comment=None)

    def converted(self, row: str = "") -> str:
        """The old column's value in the new type (`row`: "NEW." inside the trigger)."""
        col = row + ident(self.source.name)
        if self.rename and self.source.type == self.target.type:
            return col
        return f"{col}{'::text' if self.via_text else ''}::{self.target.type}"

    def marker(self, state: str) -> str:
        return json.dumps(
            {MARK: state, "source": self.source.name, "target": self.target.name},
            sort_keys=True,
        )

    def set_marker(self, state: str) -> Statement:
        column = ident(self.schema, self.table, self.new_column)
        return Statement(f"COMMENT ON COLUMN {column} IS {literal(self.marker(state))}")

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.schema, self.table, self.target.name)

    def deps(self) -> frozenset[Address]:
        return frozenset({Address.of("pg", "table", self.schema, self.table)})

    @property
    def kind(self) -> str:
        if self.rename:
            return f"rename {self.source.name} → {self.target.name}"
        return f"type {self.source.type} → {self.target.type}"

    def phase_note(self, n: int, what: str) -> str:
        return f"{self.kind}, phase {n} of 3 ({what})"


def read_marker(comment: str | None) -> tuple[str, str, str] | None:
    """(state, source, target) of a column that serves a move, else None."""
    if not comment or MARK not in comment:
        return None
    try:
        data = json.loads(comment)
        return str(data[MARK]), str(data["source"]), str(data["target"])
    except (ValueError, KeyError, TypeError):
        return None


def _clip(name: str, size: int) -> str:
    while len(name.encode()) > size:
        name = name[:-1]
    return name


def plain_index_on(ix: Index, column: str) -> bool:
    """An index the backfill can build again on the new column: plain columns, no WHERE."""
    return (
        ix.where is None
        and all(e.expression is None for e in ix.elements)
        and any(e.column == column for e in ix.elements)
        and column not in ix.include
    )
