"""Changes of free-standing sequences: create, alter in place, drop.

Owns: CreateSequence, DropSequence, AlterSequence and the options clause (sequence_options).
Must not: change who owns a sequence (OWNED BY: sequence_owner.py); a column's identity or
serial sequence comes with its column (table.py, column.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.compare import attribute_changes
from reconciler.model.pg_objects import Sequence
from reconciler.ops.base import DESTRUCTIVE, Action, Change, Hazard, Statement
from reconciler.ops.whole import CreateWhole, DropWhole, twin_of
from reconciler.sql.render import ident, literal


def _comment(q: Sequence) -> list[Statement]:
    if q.comment is None:
        return []
    return [Statement(f"COMMENT ON SEQUENCE {ident(q.schema, q.name)} IS {literal(q.comment)}")]


def sequence_options(q: Sequence) -> str:
    return (
        f"AS {q.type} INCREMENT BY {int(q.increment)} MINVALUE {int(q.min)} "
        f"MAXVALUE {int(q.max)} START WITH {int(q.start)} CACHE {int(q.cache)} "
        + ("CYCLE" if q.cycle else "NO CYCLE")
    )


@dataclass(frozen=True, slots=True)
class CreateSequence(CreateWhole):
    sequence: Sequence
    in_schema = True

    def statements(self) -> list[Statement]:
        q = self.sequence
        return [
            Statement(
                f"CREATE SEQUENCE IF NOT EXISTS {ident(q.schema, q.name)} {sequence_options(q)}"
            ),
            *_comment(q),
        ]

    def describe(self) -> str:
        return "sequence"


@twin_of(CreateSequence)
@dataclass(frozen=True, slots=True)
class DropSequence(DropWhole):
    sequence: Sequence
    in_schema = True

    def statements(self) -> list[Statement]:
        q = self.sequence
        return [Statement(f"DROP SEQUENCE IF EXISTS {ident(q.schema, q.name)} RESTRICT")]

    def hazards(self) -> tuple[Hazard, ...]:
        return (
            Hazard(
                DESTRUCTIVE,
                f"drops sequence {self.sequence.name}: its current value is lost (a rollback "
                "starts it again from its start value)",
            ),
        )

    def describe(self) -> str:
        return "sequence"


@dataclass(frozen=True, slots=True)
class AlterSequence(Change):
    old: Sequence
    new: Sequence
    action = Action.ALTER

    @property
    def address(self) -> Address:
        return self.new.address

    def statements(self) -> list[Statement]:
        q = self.new
        out = [Statement(f"ALTER SEQUENCE {ident(q.schema, q.name)} {sequence_options(q)}")]
        if self.old.comment != q.comment:
            value = "NULL" if q.comment is None else literal(q.comment)
            out.append(Statement(f"COMMENT ON SEQUENCE {ident(q.schema, q.name)} IS {value}"))
        return out

    def reverse(self) -> Change:
        return AlterSequence(self.new, self.old)

    def details(self) -> list[dict]:
        return attribute_changes(self.old, self.new)

    def describe(self) -> str:
        return "sequence: " + ", ".join(d["attribute"] for d in self.details())
