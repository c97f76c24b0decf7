"""Phased column changes for large tables: expand, backfill, contract — one plan each.

A type change that rewrites the table, or a rename clients must follow, is made without an
ACCESS EXCLUSIVE lock held for a scan:
1. expand: a new column of the new type (for a rename: the new name) beside the old one, kept
   in step by a trigger (both ways for a rename, so old and new clients can run together);
2. backfill: the rows copied over in batches of 1,000 pages, each batch its own transaction;
   the old column's plain indexes built again on the new one, concurrently; NOT NULL proved
   by a validated check;
3. contract: in one short transaction, the old column dropped and the new one takes its
   place (name, indexes, key, default, NOT NULL, comment). Not reversible: the old column is
   gone.
The new column's comment carries a JSON marker (MARK) saying which move it serves and how far
it got; the next `reconciler plan` reads it and emits the next phase. The trigger's function
lives in the tool's schema, which plans never touch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from reconciler.connect import APPLY_SEARCH_PATH, LITERAL_SETTINGS
from reconciler.model.address import Address
from reconciler.ops.base import (
    ACCESS_EXCLUSIVE,
    IRREVERSIBLE,
    ONLINE,
    Action,
    Change,
    Hazard,
    Statement,
)
from reconciler.ops.pg.index import drop_index_sql
from reconciler.ops.pg.move import TOOL_SCHEMA, Move
from reconciler.sql.render import column_def, dollar_quote, guarded, ident, index_def, literal

BATCH_PAGES = 1000  # 8 MB of table per backfill transaction
# The detail a contract carries in a plan (ContractColumn.details): what it dropped for good.
CONTRACT_DETAIL = "contract"


def _sync_function(m: Move) -> str:
    new, old = ident(m.new_column), ident(m.source.name)
    if m.rename:
        body = (
            "BEGIN\nIF TG_OP = 'INSERT' THEN\n"
            f"  IF NEW.{new} IS NULL THEN NEW.{new} := NEW.{old}; ELSE NEW.{old} := NEW.{new}; "
            "END IF;\n"
            f"ELSIF NEW.{new} IS DISTINCT FROM OLD.{new} THEN NEW.{old} := NEW.{new};\n"
            f"ELSE NEW.{new} := NEW.{old};\nEND IF;\nRETURN NEW;\nEND"
        )
    else:
        body = f"BEGIN\nNEW.{new} := {m.converted('NEW.')};\nRETURN NEW;\nEND"
    # A row written while the change is under way is converted as the backfill converts the
    # others: under the apply's settings, not the writer's session (its zone, its path).
    pinned = {**LITERAL_SETTINGS, "search_path": APPLY_SEARCH_PATH}
    settings = "".join(f" SET {name} = {literal(value)}" for name, value in pinned.items())
    return (
        f"CREATE OR REPLACE FUNCTION {m.function}() RETURNS trigger LANGUAGE plpgsql{settings} "
        f"AS {dollar_quote(body)}"
    )


def _undo_expand(m: Move) -> list[Statement]:
    return [
        Statement(f"DROP TRIGGER IF EXISTS {m.trigger} ON {m.table_sql}"),
        Statement(f"DROP FUNCTION IF EXISTS {m.function}()"),
        Statement(f"ALTER TABLE {m.table_sql} DROP COLUMN IF EXISTS {ident(m.new_column)}"),
    ]


def _undo_backfill(m: Move) -> list[Statement]:
    out = [
        Statement(f"DROP INDEX IF EXISTS {ident(m.schema, m.index_copy(ix).name)}")
        for ix in m.indexes
    ]
    out.append(
        Statement(f"ALTER TABLE {m.table_sql} DROP CONSTRAINT IF EXISTS {ident(m.not_null_check)}")
    )
    return out


@dataclass(frozen=True, slots=True)
class _Phase(Change):
    """A change made of one move: its address is the column, it needs the table."""

    move: Move
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.move.address

    def depends_on(self) -> frozenset[Address]:
        return self.move.deps()


@dataclass(frozen=True, slots=True)
class ExpandColumn(_Phase):
    def statements(self) -> list[Statement]:
        m = self.move
        column = dataclasses.replace(
            m.target, name=m.new_column, nullable=True, default=None, comment=None,
            identity=None, sequence=None, sequence_options=(),
        )  # fmt: skip
        return [
            Statement(f"CREATE SCHEMA IF NOT EXISTS {ident(TOOL_SCHEMA)}"),
            Statement(f"ALTER TABLE {m.table_sql} ADD COLUMN IF NOT EXISTS {column_def(column)}"),
            m.set_marker("expanded"),
            Statement(_sync_function(m)),
            Statement(
                f"CREATE OR REPLACE TRIGGER {m.trigger} BEFORE INSERT OR UPDATE ON "
                f"{m.table_sql} FOR EACH ROW EXECUTE FUNCTION {m.function}()"
            ),
        ]

    def reverse(self) -> Change:
        return _Undo(self.move, "expand", tuple(_undo_expand(self.move)))

    def hazards(self) -> tuple[Hazard, ...]:
        m = self.move
        both = " both ways" if m.rename else ""
        fails = "" if m.rename else "; a written value that does not convert fails the write"
        return (
            Hazard(
                ACCESS_EXCLUSIVE,
                f"adds column {m.new_column} and a trigger keeping it in step with "
                f"{m.source.name}{both} (a brief lock, no rewrite){fails}; plan again after "
                "this apply for the backfill",
            ),
        )

    def describe(self) -> str:
        return self.move.phase_note(1, "expand")


@dataclass(frozen=True, slots=True)
class BackfillColumn(_Phase):
    def statements(self) -> list[Statement]:
        m = self.move
        new = ident(m.new_column)
        out = []
        if not m.target.nullable:
            check = (
                f"ALTER TABLE {m.table_sql} ADD CONSTRAINT {ident(m.not_null_check)} "
                f"CHECK ({new} IS NOT NULL) NOT VALID"
            )
            out.append(Statement(guarded(check, "duplicate_object")))
        out.append(Statement(_backfill_sql(m), phase=ONLINE))
        for ix in m.indexes:
            copy = m.index_copy(ix)
            drop = drop_index_sql(copy, concurrently=True)
            out.append(Statement(index_def(copy, concurrently=True), phase=ONLINE, cleanup=drop))
        if not m.target.nullable:
            validate = f"ALTER TABLE {m.table_sql} VALIDATE CONSTRAINT {ident(m.not_null_check)}"
            out.append(Statement(validate, phase=ONLINE))
        marker = m.set_marker("backfilled")
        out.append(dataclasses.replace(marker, phase=ONLINE))
        return out

    def reverse(self) -> Change:
        undo = (*_undo_backfill(self.move), self.move.set_marker("expanded"))
        return _Undo(self.move, "backfill", undo)

    def hazards(self) -> tuple[Hazard, ...]:
        m = self.move
        return (
            Hazard(
                "backfill",
                f"copies {m.source.name} into {m.new_column} in batches of {BATCH_PAGES} pages, "
                "each its own transaction (writes go on; the run is one statement, so allow it "
                "with --statement-timeout); plan again after this apply for the contract",
            ),
        )

    def describe(self) -> str:
        return self.move.phase_note(2, "backfill")


def _backfill_sql(m: Move) -> str:
    new = ident(m.new_column)
    table = literal(m.table_sql)
    body = (
        "DECLARE\n"
        f"  last_page bigint := pg_catalog.pg_relation_size({table}::regclass) / "
        "pg_catalog.current_setting('block_size')::bigint;\n"
        "  page bigint := 0;\n"
        "BEGIN\n"
        "  WHILE page <= last_page LOOP\n"
        f"    UPDATE {m.table_sql} SET {new} = {m.converted()}\n"
        "    WHERE ctid >= pg_catalog.format('(%s,0)', page)::tid\n"
        f"      AND ctid < pg_catalog.format('(%s,0)', page + {BATCH_PAGES})::tid\n"
        f"      AND {new} IS DISTINCT FROM {m.converted()};\n"
        "    COMMIT;\n"
        f"    page := page + {BATCH_PAGES};\n"
        "  END LOOP;\n"
        "END"
    )
    return f"DO {dollar_quote(body)}"


@dataclass(frozen=True, slots=True)
class ContractColumn(_Phase):
    def statements(self) -> list[Statement]:
        m = self.move
        t, old, new = m.table_sql, ident(m.source.name), ident(m.new_column)
        target = ident(m.target.name)
        out = [
            Statement(f"DROP TRIGGER IF EXISTS {m.trigger} ON {t}"),
            Statement(f"DROP FUNCTION IF EXISTS {m.function}()"),
        ]
        swap = f"ALTER TABLE {t} DROP COLUMN {old};"
        if not m.rename:
            swap += f"\nALTER TABLE {t} RENAME COLUMN {new} TO {target};"
        still = m.source.name if m.rename else m.new_column  # there until the swap ran
        exists = (
            "EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = "
            f"{literal(t)}::regclass AND attname = {literal(still)} AND NOT attisdropped)"
        )
        body = f"BEGIN\nIF {exists} THEN\n{swap}\nEND IF;\nEND"
        out.append(Statement(f"DO {dollar_quote(body)}"))
        col = f"ALTER TABLE {t} ALTER COLUMN {target}"
        if not m.target.nullable:
            out.append(Statement(f"{col} SET NOT NULL"))
            out.append(
                Statement(f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {ident(m.not_null_check)}")
            )
        if m.target.default is not None:
            out.append(Statement(f"{col} SET DEFAULT {m.target.default}"))
        for ix in m.indexes:
            copy = m.index_copy(ix).name
            if m.key is not None and m.key[0] == ix.name:
                name, kind = m.key
                add = (
                    f"ALTER TABLE {t} ADD CONSTRAINT {ident(name)} {kind} USING INDEX {ident(copy)}"
                )
                out.append(
                    Statement(
                        guarded(
                            add,
                            "duplicate_object",
                            "duplicate_table",
                            "undefined_object",
                            "invalid_table_definition",
                        )
                    )
                )
            else:
                rename = f"ALTER INDEX IF EXISTS {ident(m.schema, copy)} RENAME TO {ident(ix.name)}"
                out.append(Statement(rename))
        comment = literal(m.target.comment) if m.target.comment is not None else "NULL"
        out.append(
            Statement(f"COMMENT ON COLUMN {ident(m.schema, m.table, m.target.name)} IS {comment}")
        )
        return out

    def reverse(self) -> Change:
        m = self.move
        note = (
            f"-- irreversible: column {m.source.name} ({m.source.type}) of {m.schema}.{m.table} "
            f"was dropped by the contract; {m.target.name} ({m.target.type}) stays"
        )
        return _Undo(m, "contract", (Statement(note),))

    def hazards(self) -> tuple[Hazard, ...]:
        m = self.move
        return (
            Hazard(
                ACCESS_EXCLUSIVE,
                f"drops {m.source.name} and puts {m.new_column} in its place under a brief "
                "lock (no scan, no rewrite)",
            ),
            Hazard(IRREVERSIBLE, f"the old column {m.source.name} ({m.source.type}) is dropped"),
        )

    def details(self) -> list[dict[str, Any]]:
        # No old/new: renderers leave it out. A rollback reads it: a version holding a
        # contract cannot be rolled back (apply/rollback_gate.py, refuse_contracts).
        m = self.move
        dropped = f"{m.source.name} ({m.source.type}) of {m.schema}.{m.table}"
        return [{"attribute": CONTRACT_DETAIL, "dropped": dropped}]

    def describe(self) -> str:
        return self.move.phase_note(3, "contract")


@dataclass(frozen=True, slots=True)
class AbandonMove(_Phase):
    """A move the desired state no longer asks for: its new column, trigger, index copies
    and check are taken away; the old column was never touched."""

    @property
    def address(self) -> Address:
        return Address.of("pg", "column", self.move.schema, self.move.table, self.move.source.name)

    def statements(self) -> list[Statement]:
        return [*_undo_backfill(self.move), *_undo_expand(self.move)]

    def reverse(self) -> Change:
        note = f"-- irreversible: the copy in {self.move.new_column} is gone; a plan expands anew"
        return _Undo(self.move, "abandon", (Statement(note),))

    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard(ACCESS_EXCLUSIVE, f"drops the unfinished copy {self.move.new_column}"),)

    def describe(self) -> str:
        return f"abandon the unfinished {self.move.kind}"


@dataclass(frozen=True, slots=True)
class _Undo(_Phase):
    """The reverse of one phase: fixed statements."""

    phase: str = ""
    undo: tuple[Statement, ...] = ()

    def statements(self) -> list[Statement]:
        return list(self.undo)

    def reverse(self) -> Change:
        return {"expand": ExpandColumn, "backfill": BackfillColumn, "contract": ContractColumn}.get(
            self.phase, ExpandColumn
        )(self.move)

    def describe(self) -> str:
        return f"undo the {self.phase} of {self.move.kind}"


__all__ = [
    "AbandonMove",
    "BackfillColumn",
    "ContractColumn",
    "ExpandColumn",
    "Move",
]
