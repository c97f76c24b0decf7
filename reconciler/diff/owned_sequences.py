"""Sequences that change owner between the live and the desired state.

A serial column's sequence is part of its column in the model (Column.sequence and its
options); a free-standing one is in `sequences`. The same sequence name owned by another
column, or by none, on the other side is one sequence changing hands (ops/pg_sequence_owner),
never a drop and a create: the comparators of tables and sequences leave such a sequence to
that one change (`moved()`), which gives it the new end's owner and options.
"""

from __future__ import annotations

import dataclasses
import re

from reconciler.errors import InputError
from reconciler.model import sequence_options as seqopts
from reconciler.model.names import qualified, quote_ident, split_qualified
from reconciler.model.pg import Column
from reconciler.model.pg_objects import Sequence
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.pg_sequence_owner import Owner, SetSequenceOwner

End = tuple[Sequence, Owner | None]


def _ends(snap: PgSnapshot) -> dict[tuple[str, str], End]:
    out: dict[tuple[str, str], End] = {key: (q, None) for key, q in snap.sequences.items()}
    for t in snap.tables.values():
        for c in t.columns:
            names = split_qualified(c.sequence) if c.sequence and not c.identity else ()
            if len(names) == 2:
                out[(names[0], names[1])] = (_as_sequence(names, c), (t.schema, t.name, c.name))
    return out


def _as_sequence(names: tuple[str, ...], c: Column) -> Sequence:
    seq_type = seqopts.sequence_type(c.type, c.sequence_options)
    s = seqopts.settings(seq_type, c.sequence_options)
    return Sequence(
        names[0],
        names[1],
        type=seq_type,
        start=s["start"],
        increment=s["increment"],
        min=s["min"],
        max=s["max"],
        cache=s["cache"],
        cycle=s["cycle"] == "true",
        comment=c.sequence_comment,
    )


def moved(desired: PgSnapshot, live: PgSnapshot) -> dict[tuple[str, str], SetSequenceOwner]:
    """Each sequence, by (schema, name), whose owner differs between live and desired."""
    want, have = _ends(desired), _ends(live)
    out = {}
    for key, (q, owner) in want.items():
        was = have.get(key)
        if was is not None and was[1] != owner:
            out[key] = SetSequenceOwner(was[0], q, was[1], owner)
    return out


def without_moved(col: Column, moves: dict[tuple[str, str], SetSequenceOwner]) -> Column:
    """The column as if it owned no sequence, when its sequence changes hands (that change
    sets the sequence's owner and options; the column's own changes leave it alone)."""
    names = split_qualified(col.sequence) if col.sequence else ()
    if len(names) == 2 and (names[0], names[1]) in moves:
        return dataclasses.replace(col, sequence=None, sequence_options=(), sequence_comment=None)
    return col


_NEXTVAL = re.compile(r"nextval\('((?:[^']|'')*)'(?:::regclass)?\)")


def nextval_calls(default: str | None) -> list[str]:
    """The sequences a default calls with nextval, as written (`public.t_id_seq`)."""
    return [text.replace("''", "'") for text in _NEXTVAL.findall(default or "")]


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
