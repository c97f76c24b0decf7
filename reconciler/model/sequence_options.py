"""The options of a column's sequence (an identity's, or the one a serial column owns), kept
as only those that differ from Postgres' defaults for the column's type and direction, in one
fixed order: equal options compare equal however they were written (`start: 1` on an
ascending sequence is no option at all)."""

from __future__ import annotations

import re

from reconciler.model.names import split_qualified
from reconciler.model.pg import Column
from reconciler.model.pg_objects import INTEGER_RANGES, Sequence

ORDER = ("start", "increment", "min", "max", "cache", "cycle")
_CLAUSES = {
    "start": "START WITH {}",
    "increment": "INCREMENT BY {}",
    "min": "MINVALUE {}",
    "max": "MAXVALUE {}",
    "cache": "CACHE {}",
}

Options = tuple[tuple[str, str], ...]


def sequence_type(column_type: str, opts: Options) -> str:
    """The sequence's own type: a serial column's may differ from the column's (`type` among
    its options, e.g. an integer sequence owned by a bigint column), else the column's."""
    for k, v in opts:
        if k == "type":
            return v
    return column_type


def options(
    type_: str,
    *,
    start: int | None,
    increment: int,
    lo: int | None,
    hi: int | None,
    cache: int,
    cycle: bool,
    as_type: str | None = None,
) -> Options:
    """The options that differ from the defaults (numbers as text, cycle as "true"); a
    sequence type `as_type` other than the column's `type_` comes first, as ("type", …), and
    the defaults are that type's."""
    own = () if as_type in (None, type_) else (("type", as_type),)
    type_ = as_type or type_
    if type_ not in INTEGER_RANGES:
        return ()
    lo_, hi_ = Sequence.bounds(type_, increment, lo, hi)
    given = {
        "start": str(start if start is not None else (lo_ if increment > 0 else hi_)),
        "increment": str(increment),
        "min": str(lo_),
        "max": str(hi_),
        "cache": str(cache),
        "cycle": "true" if cycle else "false",
    }
    # the bounds default by direction; the start defaults to the bound it starts from
    d_lo, d_hi = Sequence.bounds(type_, increment, None, None)
    defaults = {
        "start": str(lo_ if increment > 0 else hi_),
        "increment": "1",
        "min": str(d_lo),
        "max": str(d_hi),
        "cache": "1",
        "cycle": "false",
    }
    return own + tuple((k, given[k]) for k in ORDER if given[k] != defaults[k])


def settings(type_: str, opts: Options) -> dict[str, str]:
    """Every option's value: the given ones, Postgres' defaults for the rest."""
    given = dict(opts)
    type_ = given.get("type", type_)
    increment = int(given.get("increment", "1"))
    lo_given, hi_given = given.get("min"), given.get("max")
    lo, hi = Sequence.bounds(
        type_ if type_ in INTEGER_RANGES else "bigint",
        increment,
        None if lo_given is None else int(lo_given),
        None if hi_given is None else int(hi_given),
    )
    return {
        "start": given.get("start", str(lo if increment > 0 else hi)),
        "increment": str(increment),
        "min": str(lo),
        "max": str(hi),
        "cache": given.get("cache", "1"),
        "cycle": given.get("cycle", "false"),
    }


def clause(opts: Options) -> str:
    """`START WITH 100 INCREMENT BY 5` for CREATE TABLE / ADD GENERATED … AS IDENTITY (…)."""
    parts = [
        "CYCLE" if k == "cycle" else _CLAUSES[k].format(v)
        for k, v in opts
        if (k != "cycle" or v == "true") and k != "type"  # the type: `AS` of the caller
    ]
    return " ".join(parts)


def alter_sequence_clauses(old_type: str, old: Options, new_type: str, new: Options) -> list[str]:
    """The same changes for ALTER SEQUENCE, which takes them without `SET`, and `AS` first
    when the sequence's type changes (the column's types given: the options are theirs)."""
    had, want = sequence_type(old_type, old), sequence_type(new_type, new)
    as_type = [f"AS {want}"] if had != want else []
    # each side's numbers read against its own sequence type
    return as_type + [
        c.removeprefix("SET ")
        for c in set_clauses(want, (("type", had), *old), (("type", want), *new))
    ]


def set_clauses(type_: str, old: Options, new: Options) -> list[str]:
    """`SET …` actions turning identity options `old` into `new` (defaults spelled out); a
    change of direction restarts the sequence at its new start."""
    want, had = settings(type_, new), settings(type_, old)
    out = []
    if (int(want["increment"]) > 0) != (int(had["increment"]) > 0):
        # a new direction: the next value starts over from the new start, or the server
        # refuses the old position as out of the new bounds
        out.append("RESTART")
    for k in ORDER:
        if want[k] == had[k]:
            continue
        if k == "cycle":
            out.append("SET CYCLE" if want[k] == "true" else "SET NO CYCLE")
        else:
            out.append("SET " + _CLAUSES[k].format(want[k]))
    return out


def column_sequence(names: tuple[str, ...], c: Column) -> Sequence:
    """The sequence a column owns (Column.sequence: `names`) as a free-standing Sequence, with
    its options and comment (and no owner)."""
    seq_type = sequence_type(c.type, c.sequence_options)
    s = settings(seq_type, c.sequence_options)
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


_NEXTVAL = re.compile(r"nextval\('((?:[^']|'')*)'(?:::regclass)?\)")


def nextval_calls(default: str | None) -> list[str]:
    """The sequences a default calls with nextval, as written (`public.t_id_seq`)."""
    return [text.replace("''", "'") for text in _NEXTVAL.findall(default or "")]


def calls(default: str | None, schema: str, name: str, search_path: str = "public") -> bool:
    """Whether a default calls nextval of sequence schema.name (an unqualified name is looked
    up in `search_path`, the schema the apply sets)."""
    for text in nextval_calls(default):
        names = split_qualified(text)
        if len(names) == 1:
            names = (search_path, names[0])
        if names == (schema, name):
            return True
    return False
