"""What objects the model cannot express need, kept from harm.

The live snapshot lists those objects (`unsupported`: never compared, exported or dropped)
and, from pg_depend, what each one needs among the modelled objects (`needs`). One rule:
nothing an unmodelled object needs is dropped, or changed in a way that breaks it.

- A needed object the desired state does not declare is *withheld*: taken out of the live side
  before comparing, as if out of scope, so that no drop of it (nor of anything on it) is
  planned; `withheld()` says so, one finding per object, naming the object that needs it.
  What a withheld object needs in turn is needed too, since it stays as it is.
- A needed object the desired state declares, but that the plan would drop (a column left out
  of its table, a function replaced, a key dropped) or retype, is *refused*: `check()` raises
  one sentence naming the object that needs it, instead of SQL that fails at apply (or that
  silently takes part of the unmodelled object along).

Only objects the live snapshot holds can be withheld: what the tool never manages (plpgsql,
schemas out of scope) is never planned for a drop in the first place.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.errors import Refused
from reconciler.model.address import Address
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Action, Change
from reconciler.ops.pg.column_alter import AlterColumn

# Never dropped by a plan whether declared or not (diff/objects.py): nothing to withhold.
_BUILTIN_SCHEMAS = frozenset({"public"})
_RELATIONS = frozenset({"table", "view", "materialized_view", "sequence"})
_ON_TABLE = frozenset({"column", "constraint"})


class BreaksUnmodeled(Refused):
    """The desired state asks for a change that would break an object the model cannot
    express."""

    address: Address | None = None  # the change refused


@dataclass(frozen=True, slots=True)
class Guard:
    """What the unmodelled objects of a live snapshot need, judged against a desired one."""

    withheld: dict[Address, tuple[str, Address | None]]  # object → (who needs it, through)
    guarded: dict[Address, str]  # declared object → who needs it

    def findings(self) -> list[dict[str, Any]]:
        out = []
        for address, (dependent, via) in sorted(self.withheld.items()):
            through = f" (through {show(via)})" if via is not None else ""
            out.append(
                {
                    "kind": "withheld",
                    "address": str(address),
                    "message": f"{show(address)} is not dropped: {dependent}, which Reconciler "
                    f"does not manage, depends on it{through}.",
                }
            )
        return out


def guard(desired: PgSnapshot, live: PgSnapshot) -> Guard:
    withheld: dict[Address, tuple[str, Address | None]] = {}
    guarded: dict[Address, str] = {}
    # What each modelled object needs (by the object as a whole: a table for its columns).
    needs_of: dict[Address, list[Address]] = {}
    queue: deque[tuple[str, Address, Address | None]] = deque()
    for kind, name, address, via in live.needs:
        if via:
            needs_of.setdefault(_top(Address.parse(via), live), []).append(Address.parse(address))
        else:
            queue.append((f"{kind} {name}", Address.parse(address), None))
    while queue:
        dependent, address, via = queue.popleft()
        top = _top(address, live)
        if top in withheld or address in guarded:
            continue
        if _declared(top, desired):
            guarded[address] = dependent
        elif _held(top, live):
            # kept as it is: so is everything it needs in turn
            withheld[top] = (dependent, via)
            queue.extend((dependent, a, top) for a in needs_of.get(top, ()))
    return Guard(withheld, guarded)


def withheld(desired: PgSnapshot, live: PgSnapshot) -> list[dict[str, Any]]:
    """Findings: the drops the desired state implies that unmodelled objects forbid."""
    return guard(desired.normalize(), live.normalize()).findings()


def without_withheld(live: PgSnapshot, g: Guard) -> PgSnapshot:
    """`live` without the withheld objects and what lives on them (indexes, triggers,
    policies, grants): the comparison then leaves them exactly as they are."""
    if not g.withheld:
        return live
    gone = set(g.withheld)
    relations = {(a.parts[2], a.parts[3]) for a in gone if a.kind in _RELATIONS}

    def keep(items: dict[Any, Any], address: Any) -> dict[Any, Any]:
        return {k: v for k, v in items.items() if address(v) not in gone}

    def on_relation(items: dict[Any, Any]) -> dict[Any, Any]:
        return {k: v for k, v in items.items() if (v.schema, v.table) not in relations}

    def grant_kept(gr: Any) -> bool:
        target = gr.object_address
        if target.kind == "function":  # a procedure's grants say function
            return not {target, Address.of("pg", "procedure", *target.parts[2:])} & gone
        if target.kind in _RELATIONS or target.kind == "column":
            return (target.parts[2], target.parts[3]) not in relations
        return target not in gone

    return dataclasses.replace(
        live,
        schemas=keep(live.schemas, lambda s: s.address),
        extensions=keep(live.extensions, lambda e: e.address),
        enums=keep(live.enums, lambda e: e.address),
        collations=keep(live.collations, lambda c: c.address),
        domains=keep(live.domains, lambda d: d.address),
        composites=keep(live.composites, lambda c: c.address),
        sequences=keep(live.sequences, lambda q: q.address),
        functions=keep(live.functions, lambda f: f.address),
        aggregates=keep(live.aggregates, lambda a: a.address),
        views=keep(live.views, lambda v: v.address),
        tables=keep(live.tables, lambda t: t.address),
        indexes={
            k: ix
            for k, ix in live.indexes.items()
            if ix.address not in gone and (ix.schema, ix.table) not in relations
        },
        triggers=on_relation(live.triggers),
        policies=on_relation(live.policies),
        rules=on_relation(live.rules),
        grants={k: gr for k, gr in live.grants.items() if grant_kept(gr)},
    )


def check(
    changes: Iterable[Change], g: Guard, refused: list[BreaksUnmodeled] | None = None
) -> None:
    """Refuse a change the desired state asks for that would break an unmodelled object;
    given a `refused` list (drift, which only reports), add the refusals to it instead."""
    found = refusals(changes, g)
    if refused is not None:
        refused += found
    elif found:
        raise found[0]


def refusals(changes: Iterable[Change], g: Guard) -> list[BreaksUnmodeled]:
    """What check() refuses, each change's refusal (drift reports them instead)."""
    out: list[BreaksUnmodeled] = []
    if not g.guarded:
        return out
    for c in changes:
        dependent = g.guarded.get(c.address)
        if dependent is None:
            continue
        if c.action is Action.DROP:
            verb = "drop"
        elif isinstance(c, AlterColumn) and {"type", "collation"} & set(c.changed()):
            verb = "change the type of"
        else:
            continue
        refusal = BreaksUnmodeled(
            f"Refusing to {verb} {show(c.address)}: {dependent}, which Reconciler does not "
            "manage, depends on it.",
            detail=f"Change or drop {dependent} by hand first, or keep {show(c.address)} "
            "as it is in the desired state.",
        )
        refusal.address = c.address
        out.append(refusal)
    return out


def show(address: Address) -> str:
    """`function public.f(integer)`, `column public.t.c`: an address as a reader says it."""
    kind, parts = address.kind.replace("_", " "), address.parts[2:]
    if address.kind in ("function", "procedure", "aggregate"):
        return f"{kind} {parts[0]}.{parts[1]}({parts[2]})"
    return f"{kind} {'.'.join(parts)}"


def _top(address: Address, live: PgSnapshot) -> Address:
    """The object that is created and dropped as a whole: a column's or constraint's table,
    an index's table (or materialized view) when it is on one."""
    if address.kind in _ON_TABLE:
        return Address.of("pg", "table", *address.parts[2:4])
    if address.kind == "index":
        ix = live.indexes.get((address.parts[2], address.parts[3]))
        if ix is not None:
            matview = live.views.get((ix.schema, ix.table))
            return matview.address if matview is not None else ix.table_address
    return address


def _held(address: Address, snap: PgSnapshot) -> bool:
    return _lookup(address, snap) is not None


def _declared(address: Address, desired: PgSnapshot) -> bool:
    if address.kind == "schema" and address.parts[2] in _BUILTIN_SCHEMAS:
        return True
    if _lookup(address, desired) is not None:
        return True
    # renamed_from: the desired state declares it under its new name
    if address.kind == "table":
        schema, name = address.parts[2:4]
        return any(t.schema == schema and t.renamed_from == name for t in desired.tables.values())
    return False


def _lookup(address: Address, snap: PgSnapshot) -> Any:
    kind, parts = address.kind, address.parts[2:]
    if kind == "schema":
        return snap.schemas.get(parts[0])
    if kind == "extension":
        return snap.extensions.get(parts[0])
    # Kind-blind where one name may change kind (a view made materialized, a function made
    # a procedure): declared under another kind is declared, and its drop is a change asked for.
    if kind in ("function", "procedure"):
        return snap.functions.get((parts[0], parts[1], parts[2]))
    if kind == "aggregate":
        return snap.aggregates.get((parts[0], parts[1], parts[2]))
    if kind in ("view", "materialized_view"):
        return snap.views.get((parts[0], parts[1]))
    if kind == "column":
        t = snap.tables.get((parts[0], parts[1]))
        return t.column(parts[2]) if t is not None else None
    if kind == "constraint":
        t = snap.tables.get((parts[0], parts[1]))
        found = [k for k in (t.constraints() if t else ()) if k.name == parts[2]]
        return found[0] if found else None
    table = {
        "table": snap.tables,
        "enum": snap.enums,
        "collation": snap.collations,
        "domain": snap.domains,
        "composite_type": snap.composites,
        "sequence": snap.sequences,
        "index": snap.indexes,
    }.get(kind)
    return table.get((parts[0], parts[1])) if table is not None else None
