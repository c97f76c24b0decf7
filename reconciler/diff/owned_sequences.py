"""Sequences that change owner between the live and the desired state.

A serial column's sequence is part of its column in the model (Column.sequence and its
options); a free-standing one is in `sequences`, with the column that owns it when one does
(Sequence.owned_by: its default does not call it). The same sequence name owned by another
column, or by none, on the other side is one sequence changing hands (ops/pg_sequence_owner),
never a drop and a create: the comparators of tables and sequences leave such a sequence to
that one change (`moved()`), which gives it the new end's owner and options.

A free-standing sequence with an owner that is created or dropped (`owners_of_new_and_gone`)
is created without one and then given it once the column exists, or loses it before it is
dropped: a rollback creates it again, then gives it back to its column once that is there.
"""

from __future__ import annotations

import dataclasses

from reconciler.errors import InputError
from reconciler.model import sequence_options as seqopts
from reconciler.model.names import qualified, quote_ident, split_qualified
from reconciler.model.pg import Column
from reconciler.model.pg_objects import Sequence
from reconciler.model.sequence_options import nextval_calls
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.pg.sequence_owner import Owner, SetSequenceOwner

End = tuple[Sequence, Owner | None]


def _ends(snap: PgSnapshot) -> dict[tuple[str, str], End]:
    out: dict[tuple[str, str], End] = {key: (q, _owner(q)) for key, q in snap.sequences.items()}
    for t in snap.tables.values():
        for c in t.columns:
            names = split_qualified(c.sequence) if c.sequence and not c.identity else ()
            if len(names) == 2:
                out[(names[0], names[1])] = (
                    seqopts.column_sequence(names, c),
                    (t.schema, t.name, c.name),
                )
    return out


def owned_sequence_keys(snap: PgSnapshot) -> set[tuple[str, str]]:
    """(schema, name) of every sequence some column owns as its own (serial)."""
    return {key for key in _ends(snap) if key not in snap.sequences}


def _owner(q: Sequence) -> Owner | None:
    return (q.schema, *q.owned_by) if q.owned_by else None


def moved(desired: PgSnapshot, live: PgSnapshot) -> dict[tuple[str, str], SetSequenceOwner]:
    """Each sequence, by (schema, name), whose owner differs between live and desired, or
    that is a column's own on one side and free-standing on the other."""
    want, have = _ends(desired), _ends(live)
    out = {}
    for key, (q, owner) in want.items():
        was = have.get(key)
        if was is None:
            continue
        # the same owner, whose default starts or stops calling it: the sequence goes from
        # free-standing to the column's own or back, and stays as it is in the catalog (the
        # column's default changes on its own)
        calls = (key in desired.sequences) != (key in live.sequences)
        if was[1] != owner or calls:
            out[key] = SetSequenceOwner(was[0], q, was[1], owner)
    return out


def owners_of_new_and_gone(desired: PgSnapshot, live: PgSnapshot) -> list[SetSequenceOwner]:
    """The owner given to each owned free-standing sequence the plan creates (after both the
    sequence and its column exist), and taken from each one it drops (before the sequence,
    and before its table or column: a DROP TABLE would take the sequence along, and the
    rollback's CREATE TABLE would not give it back its owner)."""
    want, have = _ends(desired), _ends(live)
    out = []
    for key, q in desired.sequences.items():
        if q.owned_by and key not in have:
            bare = dataclasses.replace(q, owned_by=None)
            out.append(SetSequenceOwner(bare, q, None, _owner(q), alone=True))
    for key, q in live.sequences.items():
        if q.owned_by and key not in want:
            bare = dataclasses.replace(q, owned_by=None)
            out.append(SetSequenceOwner(q, bare, _owner(q), None, alone=True))
    return out


def without_moved(col: Column, moves: dict[tuple[str, str], SetSequenceOwner]) -> Column:
    """The column as if it owned no sequence, when its sequence changes hands (that change
    sets the sequence's owner and options; the column's own changes leave it alone)."""
    names = split_qualified(col.sequence) if col.sequence else ()
    if len(names) == 2 and (names[0], names[1]) in moves:
        return dataclasses.replace(col, sequence=None, sequence_options=(), sequence_comment=None)
    return col


def check_defaults(desired: PgSnapshot, live: PgSnapshot) -> None:
    """Refuse, at plan time, a desired default that calls a sequence the plan would drop (it
    exists now, and the desired state has it neither free-standing nor owned by a column):
    Postgres would refuse the drop half-way through the apply."""
    want, have = _ends(desired), _ends(live)
    for t in desired.tables.values():
        for c in t.columns:
            for text in nextval_calls(c.default):
                names = split_qualified(text)
                key = (names[0], names[1]) if len(names) == 2 else None
                if key is not None and key in have and key not in want:
                    raise InputError(
                        f"Column {qualified(t.schema, t.name)}.{quote_ident(c.name)}: its "
                        f"default calls sequence {qualified(*key)}, which the desired state "
                        "drops.",
                        detail="Declare the sequence under `sequences:` or as the `sequence` "
                        "of the column that owns it, or give the column another default.",
                        source=c.source,
                    )
