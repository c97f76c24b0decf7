"""order(changes): a dependency order for a list of changes, byte-identical run to run.

Edges are read from each change's provides() / depends_on() (see ops/base.py):
1. a change needing X runs after the create or rename that provides X (a drop: after a
   rename only — it needs the old X, not its replacement);
2. a non-drop change needing X runs after an alter of X (an index after its column's new type);
3. a drop of something needing X runs before an alter or drop of X (dependents go first:
   a foreign key before the table it references, an index before its column's type change);
4. for one address, the drop runs before the create (a replaced constraint or index); also
   for one relation name (model.address.relation_name: an index dropped, a key of its name
   added);
5. a non-drop change needing X runs before the drop of X when nothing provides X again
   (a column moves off an enum type before the type is dropped);
6. an `early` change (an enum value added) runs before the creates and alters that may use
   what it makes (a view, index or check naming the value), but those providing what it needs.
Ties are broken on (action rank, address, kind of change), so the same inputs give the same
order. Cycles cannot arise from foreign keys (they are separate changes after both tables); any
other cycle is reported with its members as the user wrote them (`views public.a →
public.b → public.a`, each with the file:line of its YAML when known), starting from the
smallest node, with what to change to break it.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import defaultdict
from fnmatch import fnmatchcase
from graphlib import CycleError, TopologicalSorter
from typing import Any

from reconciler.errors import InputError, ReconcilerError
from reconciler.model.address import Address
from reconciler.model.words import counted
from reconciler.ops.base import Action, Change


def order(changes: list[Change], only: tuple[str, ...] = ()) -> list[Change]:
    """The changes in dependency order; with `only` (--target), just those the patterns name
    and every change they need to run after (what they depend on, drops that must come first).

    The order is networkx's lexicographical_topological_sort, made with the standard library's
    graphlib so that a plan does not load networkx (~0.09 s): of the changes whose
    predecessors have all run, the one with the smallest tie-break key runs next (then the
    first made). networkx is loaded for --target and to name a cycle."""
    if not changes:
        return []  # the no-op plan: nothing to order
    nodes, edges = _build(changes)
    if only:
        chosen = _targeted(nodes, _graph(nodes, edges), only)
        nodes = {n: c for n, c in nodes.items() if n in chosen}  # in their order
        edges = [(a, b) for a, b in edges if a in nodes and b in nodes]
    ordered = _lexicographic(nodes, edges)
    if ordered is None:
        # reversed: each one shown needs the next (a view → the view it reads)
        ring = _smallest_cycle(_graph(nodes, edges).reverse(copy=False))
        raise _cycle_error([nodes[n] for n in ring])
    return ordered


def _lexicographic(nodes: dict[str, Change], edges: list[tuple[str, str]]) -> list[Change] | None:
    """The changes in the order of networkx's lexicographical_topological_sort with key
    _key (ties: the order of `nodes`); None when the edges make a cycle."""
    before: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in edges:
        before[b].add(a)
    sorter = TopologicalSorter(before)
    try:
        sorter.prepare()
    except CycleError:
        return None
    rank = {n: i for i, n in enumerate(nodes)}
    ready = [(_key(nodes[n]), rank[n], n) for n in sorter.get_ready()]
    heapq.heapify(ready)
    out = []
    while ready:
        n = heapq.heappop(ready)[2]
        out.append(nodes[n])
        sorter.done(n)
        for m in sorter.get_ready():
            heapq.heappush(ready, (_key(nodes[m]), rank[m], m))
    return out


def _graph(nodes: dict[str, Change], edges: list[tuple[str, str]]) -> Any:
    """The networkx graph of the changes: their nodes and edges in the order they were made."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    return graph


def matches(address: str, pattern: str) -> bool:
    """`pattern` names `address`: equal, an address it contains (`pg.table.public.users`
    names the table's own changes; `pg.column.public.users` every column of it), or a glob
    (`pg.*.public.users*`)."""
    if any(ch in pattern for ch in "*?["):
        return fnmatchcase(address, pattern)
    return address == pattern or address.startswith(pattern + ".")


def _targeted(nodes: dict[str, Change], graph: Any, patterns: tuple[str, ...]) -> set[str]:
    import networkx as nx

    chosen = {n for n, c in nodes.items() if any(matches(str(c.address), p) for p in patterns)}
    if not chosen:
        raise InputError(
            f"No planned change matches --target {' '.join(patterns)}; without it the plan "
            f"has {counted(len(nodes), 'change')}.",
            detail="Run `reconciler plan` without --target to see their addresses.",
        )
    for n in list(chosen):
        chosen |= nx.ancestors(graph, n)
    return chosen


def _build(changes: list[Change]) -> tuple[dict[str, Change], list[tuple[str, str]]]:
    """The changes by node id, and the edges (a, b: a runs before b) in the order made."""
    nodes = {c.node_id(): c for c in changes}
    edges: list[tuple[str, str]] = []

    # what each change provides and needs, worked out once (a table's is every column's)
    provided = {nid: c.provides() for nid, c in nodes.items()}
    providers: dict[Address, list[str]] = defaultdict(list)  # create / rename
    alters: dict[Address, list[str]] = defaultdict(list)
    drops: dict[Address, list[str]] = defaultdict(list)
    for nid, c in nodes.items():
        if c.action is Action.DROP:
            drops[c.address].append(nid)
            for a in c.reverse().provides():  # a relation name it frees (an index's, a key's)
                if a.kind == "relname":
                    drops[a].append(nid)
        elif c.action is Action.ALTER:
            for a in provided[nid]:
                alters[a].append(nid)
        else:
            for a in provided[nid]:
                providers[a].append(nid)

    for nid, c in nodes.items():
        is_drop = c.action is Action.DROP
        for dep in c.depends_on():
            for p in providers.get(dep, ()):
                # A drop needs the *old* object: only a rename (which the drop's SQL already
                # follows) must precede it, never the creation of a replacement.
                if not is_drop or nodes[p].action is Action.RENAME:
                    _edge(edges, p, nid)
            for p in alters.get(dep, ()):
                _edge(edges, nid, p) if is_drop else _edge(edges, p, nid)
            if is_drop or dep not in providers:
                for p in drops.get(dep, ()):
                    _edge(edges, nid, p)
        if not is_drop:
            for a in provided[nid] | {c.address}:
                for d in drops.get(a, ()):
                    _edge(edges, d, nid)
    for nid, c in nodes.items():
        if c.early:
            needs = c.depends_on()
            for other, o in nodes.items():
                if o.early or o.action is Action.DROP or provided[other] & needs:
                    continue
                if c.uses_what_it_makes(o):
                    _edge(edges, nid, other)
    return nodes, edges


def _edge(edges: list[tuple[str, str]], a: str, b: str) -> None:
    if a != b:
        edges.append((a, b))


def _key(c: Change) -> str:
    rank, address, kind = c.sort_key()
    return f"{rank}\x00{address}\x00{kind}"


def _smallest_cycle(graph: Any) -> list[str]:
    import networkx as nx

    cycle = [u for u, _ in nx.find_cycle(graph)]
    start = cycle.index(min(cycle))
    cycle = cycle[start:] + cycle[:start]
    return [*cycle, cycle[0]]


def _cycle_error(ring: list[Change]) -> ReconcilerError:
    """The error for changes that need each other in a ring (each needs the next, the first
    repeated last): the objects as the desired state names them, where they are written, and
    a way out."""
    kinds = {c.kind for c in ring}
    same = len(kinds) == 1 and len({c.action for c in ring}) == 1
    shown = []
    for i, c in enumerate(ring):
        name = str(type(c.address)(c.address.parts[2:]))
        if not same:
            name = f"{c.action.verb} {c.kind} {name}"
        where = _source(c)
        shown.append(f"{name} ({where})" if where and i < len(ring) - 1 else name)
    kind = next(iter(kinds))
    lead = f"{kind.replace('_', ' ')}s " if same else ""
    summary = f"The plan cannot order its changes: {lead}{' → '.join(shown)} depend on each other."
    if kinds <= {"view", "materialized_view"}:
        detail = (
            "A view cannot read a view that reads it: change the query of one of them so that "
            "the ring is broken, then plan again."
        )
    else:
        detail = (
            "Change one of them in the desired state so that it no longer needs the next one, "
            "then plan again; if the files do not make them need each other, report it as a "
            "bug with the output of `reconciler --debug plan`."
        )
    return ReconcilerError(summary, detail=detail)


def _source(change: Change) -> str | None:
    """The file:line of the desired-state object a change is made from, when it knows it."""
    if not dataclasses.is_dataclass(change):
        return None
    for f in dataclasses.fields(change):
        source = getattr(getattr(change, f.name), "source", None)
        if isinstance(source, str) and source:
            return source
    return None
