"""A sequence that changes hands: from one column to another column (of this or another
table), from a column to no owner (free-standing), or from no owner to a column.

One `ALTER SEQUENCE … OWNED BY` with the options the new end wants keeps the sequence, its
current value and its privileges; a drop and a create would lose the value, and dropping the
old owner first would take the sequence with it. So the change runs after the new owner
exists and before the old owner is dropped (it depends on both columns, graph rule 5), and
its reverse hands the sequence back with the options it had.

`alone`: only the owner of a free-standing sequence that the plan creates or drops (its own
change makes or drops it, without an owner). It then runs after the sequence is created, or
before it is dropped, and has an address of its own (`….owned_by`), so that it is not ordered
after the sequence's drop as a change of that sequence would be. `IF EXISTS`: a second run of
the file finds the sequence already dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.address import Address
from reconciler.model.pg_objects import Sequence
from reconciler.ops.base import Action, Change, Statement
from reconciler.ops.pg.sequence import sequence_options
from reconciler.sql.render import dollar_quote, ident, literal

Owner = tuple[str, str, str]  # (schema, table, column)


@dataclass(frozen=True, slots=True)
class SetSequenceOwner(Change):
    old: Sequence
    new: Sequence
    old_owner: Owner | None
    new_owner: Owner | None
    alone: bool = False
    action = Action.ALTER

    @property
    def address(self) -> Address:
        if self.alone:
            return Address.of(*self.new.address.parts, "owned_by")
        return self.new.address

    def statements(self) -> list[Statement]:
        q = self.new
        owner = ident(*self.new_owner) if self.new_owner else "NONE"
        name = ident(q.schema, q.name)
        if self.alone:
            return [Statement(f"ALTER SEQUENCE IF EXISTS {name} OWNED BY {owner}")]
        out = [Statement(f"ALTER SEQUENCE {name} {sequence_options(q)} OWNED BY {owner}")]
        if self.old.comment != q.comment:
            value = "NULL" if q.comment is None else literal(q.comment)
            out.append(Statement(f"COMMENT ON SEQUENCE {ident(q.schema, q.name)} IS {value}"))
        return out

    def reverse(self) -> Change:
        return SetSequenceOwner(self.new, self.old, self.new_owner, self.old_owner, self.alone)

    def provides(self) -> frozenset[Address]:
        # The sequence exists before and after: whatever calls it (defaults, which depend on
        # every sequence) needs no order against this change, and the owners must not get one.
        return frozenset()

    def depends_on(self) -> frozenset[Address]:
        out = {Address.of("pg", "schema", self.new.schema)}
        if self.alone:  # after its creation, before its drop
            out.add(self.new.address)
        for owner in (self.old_owner, self.new_owner):
            if owner is not None:
                out |= {Address.of("pg", "table", *owner[:2]), Address.of("pg", "column", *owner)}
        return frozenset(out)

    def details(self) -> list[dict]:
        def name(owner: Owner | None) -> str | None:
            return ".".join(owner) if owner else None

        out = [{"attribute": "owned_by", "old": name(self.old_owner), "new": name(self.new_owner)}]
        for key in ("type", "start", "increment", "min", "max", "cache", "cycle", "comment"):
            was, now = getattr(self.old, key), getattr(self.new, key)
            if was != now:
                out.append({"attribute": key, "old": was, "new": now})
        return out

    def describe(self) -> str:
        return "sequence: " + ", ".join(d["attribute"] for d in self.details())


# A column that goes from one sequence to another (serial → identity, identity → serial, one
# owned sequence → another) keeps counting where the old one was: its last value is noted
# (a session setting, so that a file psql replays statement by statement carries it too)
# before the old sequence goes, and the new one is moved up to it when that is ahead of it, so
# new rows never reuse a number the old sequence handed out. The carry goes one way only: a
# new sequence told to start higher keeps its start.
_COUNTER = "reconciler.sequence_counter"


def note_counter(schema: str, table: str, column: str) -> Statement:
    seq = f"pg_catalog.pg_get_serial_sequence({literal(ident(schema, table))}, {literal(column)})"
    value = f"pg_catalog.pg_sequence_last_value({seq}::regclass)::text"
    body = f"BEGIN PERFORM pg_catalog.set_config('{_COUNTER}', coalesce({value}, ''), false); END"
    return Statement(f"DO {dollar_quote(body)}")


def carry_counter(schema: str, table: str, column: str) -> Statement:
    seq = f"pg_catalog.pg_get_serial_sequence({literal(ident(schema, table))}, {literal(column)})"
    body = (
        "DECLARE s regclass; v bigint; "
        f"BEGIN s := {seq}::regclass; "
        f"v := nullif(pg_catalog.current_setting('{_COUNTER}', true), '')::bigint; "
        "IF s IS NOT NULL AND v IS NOT NULL AND EXISTS (SELECT FROM pg_catalog.pg_sequence AS q "
        "WHERE q.seqrelid = s AND q.seqincrement > 0 "
        "AND v > coalesce(pg_catalog.pg_sequence_last_value(s), q.seqstart - 1)) "
        "THEN PERFORM pg_catalog.setval(s, v); END IF; END"
    )
    return Statement(f"DO {dollar_quote(body)}")


def drop_unless_identity(sequence: str) -> Statement:
    """DROP SEQUENCE of a column's old sequence that an identity now replaces: a second run
    finds the identity's sequence under that name and leaves it alone."""
    check = (
        f"SELECT FROM pg_catalog.pg_class AS c WHERE c.oid = pg_catalog.to_regclass("
        f"{literal(sequence)}) AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS d "
        "WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid "
        "AND d.deptype = 'i')"
    )
    body = f"BEGIN IF EXISTS ({check}) THEN DROP SEQUENCE {sequence} RESTRICT; END IF; END"
    return Statement(f"DO {dollar_quote(body)}")
