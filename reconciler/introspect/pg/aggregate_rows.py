"""An aggregate read back from its row of aggregates.sql."""

from __future__ import annotations

from typing import Any

from reconciler.model.pg_aggregates import Aggregate

_MODIFY = {"r": "read_only", "s": "shareable", "w": "read_write"}
_PARALLEL = {"s": "safe", "r": "restricted", "u": "unsafe"}


def aggregate_from_row(row: tuple[Any, ...]) -> Aggregate:
    (
        schema, name, types, arguments, sfunc, stype, sspace, finalfunc, finalfunc_extra,
        finalfunc_modify, combinefunc, serialfunc, deserialfunc, initcond, msfunc, minvfunc,
        mstype, msspace, mfinalfunc, mfinalfunc_extra, mfinalfunc_modify, minitcond, sortop,
        parallel, comment, used_by,
    )  = row  # fmt: skip
    return Aggregate(
        schema,
        name,
        types,
        arguments,
        sfunc,
        stype,
        sspace=sspace,
        finalfunc=finalfunc,
        finalfunc_extra=finalfunc_extra,
        finalfunc_modify=_MODIFY.get(finalfunc_modify, finalfunc_modify),
        combinefunc=combinefunc,
        serialfunc=serialfunc,
        deserialfunc=deserialfunc,
        initcond=initcond,
        msfunc=msfunc,
        minvfunc=minvfunc,
        mstype=mstype,
        msspace=msspace,
        mfinalfunc=mfinalfunc,
        mfinalfunc_extra=mfinalfunc_extra,
        mfinalfunc_modify=_MODIFY.get(mfinalfunc_modify, mfinalfunc_modify),
        minitcond=minitcond,
        sortop=sortop,
        parallel=_PARALLEL.get(parallel, parallel),
        comment=comment,
        used_by=tuple(used_by or ()),
    )
