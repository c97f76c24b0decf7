"""Aggregates (CREATE AGGREGATE): ordinary ones, with their moving-aggregate mode. Same rules
as model/pg.py: exact catalog names, texts in the server's spelling once canonical. An
ordered-set or hypothetical-set aggregate (WITHIN GROUP) is not modelled: it is reported."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.model.address import Address
from reconciler.model.pg import reduce_by_fields

MODIFY = ("read_only", "shareable", "read_write")  # FINALFUNC_MODIFY (aggfinalmodify r, s, w)


@dataclass(frozen=True, slots=True)
class Aggregate:
    """An aggregate as pg_aggregate holds it. `types` are its argument types as the server
    names the aggregate (oidvectortypes), `arguments` the argument list as
    pg_get_function_arguments prints it; routines are schema-qualified (`pg_catalog.int4pl`),
    types as format_type prints them, `sortop` as `schema.operator`. None and 0 are the
    catalog's "not set"; `used_by` says what depends on a live one (pg_describe_object)."""

    schema: str
    name: str
    types: str
    arguments: str
    sfunc: str
    stype: str
    sspace: int = 0
    finalfunc: str | None = None
    finalfunc_extra: bool = False
    finalfunc_modify: str = "read_only"
    combinefunc: str | None = None
    serialfunc: str | None = None
    deserialfunc: str | None = None
    initcond: str | None = None
    msfunc: str | None = None
    minvfunc: str | None = None
    mstype: str | None = None
    msspace: int = 0
    mfinalfunc: str | None = None
    mfinalfunc_extra: bool = False
    mfinalfunc_modify: str = "read_only"
    minitcond: str | None = None
    sortop: str | None = None
    parallel: str = "unsafe"  # safe | restricted | unsafe
    comment: str | None = None
    used_by: tuple[str, ...] = field(default=(), compare=False)
    source: str | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.schema, self.name, self.types)

    @property
    def address(self) -> Address:
        return Address.of("pg", "aggregate", self.schema, self.name, self.types)

    def routines(self) -> tuple[str, ...]:
        """The qualified names of the routines it calls."""
        names = (
            self.sfunc,
            self.finalfunc,
            self.combinefunc,
            self.serialfunc,
            self.deserialfunc,
            self.msfunc,
            self.minvfunc,
            self.mfinalfunc,
        )
        return tuple(n for n in names if n is not None)


Aggregate.__reduce__ = reduce_by_fields  # type: ignore[method-assign]
