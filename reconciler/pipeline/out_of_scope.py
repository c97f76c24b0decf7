"""Objects the scope leaves out that read what a plan drops: found before the plan is shown.

A schema reconciler.yaml excludes is never read, compared or dropped. But its views, foreign
keys, functions and triggers may read tables and columns that are in scope. Dropping one of
those would fail at apply (RESTRICT), or, when the drop keeps its data in the trash (ALTER …
SET SCHEMA), silently re-point the excluded objects at the trash copy. Either way an object
nobody asked to change is changed or blocks the apply. So each such drop is refused, naming
what reads it, in one catalog query.

Must not: read anything in an excluded schema beyond what depends on a dropped object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.errors import Refused
from reconciler.model.address import Address
from reconciler.model.words import counted
from reconciler.ops.base import Action, Change
from reconciler.project.scope import Scope
from reconciler.sql.render import ident

if TYPE_CHECKING:
    import psycopg

_RELATIONS = ("table", "view", "materialized_view")

# What depends (deptype 'n': a normal reference) on each dropped relation or column, with the
# schema it lives in: a view's rewrite rule, a constraint (a foreign key), a relation, a
# function, a type or a trigger. Only dependents in schemas the scope excludes are returned.
_DEPENDENTS = """
WITH target (address, rel, col) AS (
    SELECT t.address, pg_catalog.to_regclass(t.rel), t.col
    FROM unnest(%(addresses)s::text[], %(rels)s::text[], %(cols)s::text[]) AS t(address, rel, col)
)
SELECT DISTINCT t.address, pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
FROM target AS t
JOIN pg_catalog.pg_depend AS d
  ON d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = t.rel AND d.deptype = 'n'
 AND (t.col IS NULL OR d.refobjsubid = (
        SELECT a.attnum FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid = t.rel AND a.attname = t.col))
JOIN pg_catalog.pg_namespace AS n ON n.oid = CASE d.classid
    WHEN 'pg_catalog.pg_rewrite'::regclass THEN (
        SELECT c.relnamespace FROM pg_catalog.pg_rewrite AS r
        JOIN pg_catalog.pg_class AS c ON c.oid = r.ev_class WHERE r.oid = d.objid)
    WHEN 'pg_catalog.pg_constraint'::regclass THEN (
        SELECT k.connamespace FROM pg_catalog.pg_constraint AS k WHERE k.oid = d.objid)
    WHEN 'pg_catalog.pg_class'::regclass THEN (
        SELECT c.relnamespace FROM pg_catalog.pg_class AS c WHERE c.oid = d.objid)
    WHEN 'pg_catalog.pg_proc'::regclass THEN (
        SELECT p.pronamespace FROM pg_catalog.pg_proc AS p WHERE p.oid = d.objid)
    WHEN 'pg_catalog.pg_type'::regclass THEN (
        SELECT y.typnamespace FROM pg_catalog.pg_type AS y WHERE y.oid = d.objid)
    WHEN 'pg_catalog.pg_trigger'::regclass THEN (
        SELECT c.relnamespace FROM pg_catalog.pg_trigger AS g
        JOIN pg_catalog.pg_class AS c ON c.oid = g.tgrelid WHERE g.oid = d.objid)
END
WHERE t.rel IS NOT NULL
  AND n.nspname LIKE ANY (%(out_of_scope)s::text[])
ORDER BY 1, 2
"""


def _dropped(changes: Sequence[Change]) -> list[tuple[str, str, str | None]]:
    """(address, relation, column or None) of every relation or column a change drops."""
    out = []
    for c in changes:
        if c.action is not Action.DROP:
            continue
        a: Address = c.address
        if a.engine != "pg" or len(a.parts) < 4:
            continue
        if a.kind in _RELATIONS:
            out.append((str(a), ident(a.parts[2], a.parts[3]), None))
        elif a.kind == "column" and len(a.parts) == 5:
            out.append((str(a), ident(a.parts[2], a.parts[3]), a.parts[4]))
    return out


def refuse_out_of_scope_dependents(
    conn: psycopg.Connection, changes: Sequence[Change], scope: Scope
) -> None:
    """Refuse the plan when an object in an excluded schema depends on one it drops."""
    if not scope.excluded:
        return
    dropped = _dropped(changes)
    if not dropped:
        return
    rows = conn.execute(
        _DEPENDENTS,
        {
            "addresses": [d[0] for d in dropped],
            "rels": [d[1] for d in dropped],
            "cols": [d[2] for d in dropped],
            "out_of_scope": scope.like_patterns(),
        },
    ).fetchall()
    if not rows:
        return
    lines = [f"{address}: {what} depends on it" for address, what in rows]
    shown = "; ".join(lines[:5]) + (f"; and {len(lines) - 5} more" if len(lines) > 5 else "")
    raise Refused(
        f"The plan drops what {counted(len(lines), 'object')} in schemas left out of scope "
        f"read: {shown}.",
        detail="Change or drop those objects first (they are not Reconciler's to touch), or "
        "take their schema into the scope.",
    )
