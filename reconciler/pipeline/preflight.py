"""Before a plan is shown: what the server would refuse at apply, found while planning.

A plan is reviewed and then applied, often much later; a mistake that only the apply reveals
wastes the review and, under a phased apply, may leave half a change behind. So the planner
refuses, with the object's name and its file:line, every desired object that:
- names a type, function or relation that neither the server nor the desired state defines
  (names_check.py);
- adds a NOT NULL column without a default to a live table that holds rows;
- asks for an extension version the server does not have, or cannot reach from the installed
  one (no update script: most extensions ship no downgrades);
- holds SQL the server's own parser refuses, from a later PostgreSQL (parse_check.py);
- sets a default the server refuses when it analyses it: an aggregate, `'abc'` on an integer
  (default_check.py).
(View rings are pure desired state: validation refuses them, desired/views.py.)

Names are resolved as the apply resolves them, in a transaction that is always rolled back
(names_check.py); what cannot be asked is given the benefit of the doubt: these checks must
never refuse a sound plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from reconciler.connect import APPLY_SEARCH_PATH
from reconciler.diff.rebuilds import rebuilt_tables
from reconciler.errors import InputError, Problem
from reconciler.model.address import Address
from reconciler.model.pg import Column, Table
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Change
from reconciler.pipeline.default_check import defaults_to_try, refused_defaults, type_names
from reconciler.pipeline.names_check import Unsure, as_apply, unknown_names
from reconciler.pipeline.parse_check import server_syntax
from reconciler.pipeline.trash import holding_rows

if TYPE_CHECKING:
    import psycopg


def preflight(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot, changed: PgSnapshot
) -> None:
    """Raise InputError listing every object the apply would fail on (nothing otherwise);
    `changed` is changed_objects(desired, live)."""
    problems = server_syntax(conn, changed)
    problems += unknown_names(conn, desired, live, changed)
    problems += not_null_on_rows(conn, desired, live, changed)
    problems += extension_versions(conn, desired, live)
    _refuse(problems)


def _refuse(problems: list[Problem]) -> None:
    if not problems:
        return
    if len(problems) == 1:
        raise InputError(problems[0].message + ".", source=problems[0].source)
    raise InputError(
        f"{len(problems)} objects of the desired state would fail at apply.", problems=problems
    )


# Kinds whose SQL texts and type names the checks read (parse_check.sql_texts, names_check).
_TEXT_KINDS = ("tables", "indexes", "domains", "composites", "functions", "policies", "triggers")
_TEXT_KINDS += ("views",)


def changed_objects(desired: PgSnapshot, live: PgSnapshot) -> PgSnapshot:
    """`desired` with only the objects of the kinds that hold SQL texts and type names that
    the server does not already hold as they are: what it printed itself, it parses and
    resolves (a no-op plan of 1,000 tables then asks nothing)."""
    return dataclasses.replace(
        desired,
        **{
            kind: {
                key: obj
                for key, obj in getattr(desired, kind).items()
                if getattr(live, kind).get(key) != obj
            }
            for kind in _TEXT_KINDS
        },
    )


# --- defaults the server analyses -----------------------------------------------------------------


def refuse_defaults(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot, changes: Iterable[Change]
) -> None:
    """Raise InputError listing the defaults the plan's `changes` set (its ordered changes,
    after preflight() passed: a targeted plan's are some) that the server refuses."""
    touched = {c.address for c in changes if c.address.engine == "pg"}
    if touched:
        _refuse(analysed_defaults(conn, desired, live, touched))


def analysed_defaults(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot, touched: set[Address]
) -> list[Problem]:
    """The defaults the changes at `touched` set that the server refuses
    (default_check.py); none tried when a pending extension cannot be created."""
    # an object as live holds it sets no default
    uses = defaults_to_try(changed_objects(desired, live), live, touched)
    if not uses:
        return []
    try:
        with as_apply(conn, desired, live):
            return refused_defaults(conn, uses)
    except Unsure:
        return []


# --- extension versions ----------------------------------------------------------------------


def extension_versions(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot
) -> list[Problem]:
    """Each desired extension version the server cannot install, or update to from the
    installed version (pg_available_extension_versions, pg_extension_update_paths)."""
    out = []
    for name, e in desired.extensions.items():
        have = live.extensions.get(name)
        if e.version is None or (have is not None and have.version == e.version):
            continue
        if have is None or have.version is None:
            query = (
                "SELECT EXISTS (SELECT FROM pg_catalog.pg_available_extension_versions "
                "WHERE name = %s AND version = %s)"
            )
            row = conn.execute(query, (name, e.version)).fetchone()
            if not (row and row[0]):
                out.append(
                    Problem(
                        f"extension {name} version {e.version} is not available on the server",
                        source=e.source,
                    )
                )
            continue
        query = (
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_extension_update_paths(%s) "
            "WHERE source = %s AND target = %s AND path IS NOT NULL)"
        )
        import psycopg  # deferred: start-up: psycopg

        try:
            with conn.transaction():
                row = conn.execute(query, (name, have.version, e.version)).fetchone()
        except psycopg.Error:  # the extension's files are gone from the server
            row = (False,)
        if not (row and row[0]):
            out.append(
                Problem(
                    f"extension {name} cannot go from version {have.version} to {e.version}: "
                    "the extension ships no update script for that (a downgrade?)",
                    source=e.source,
                )
            )
    return out


# --- NOT NULL without a default on rows -----------------------------------------------------------


def not_null_on_rows(
    conn: psycopg.Connection, desired: PgSnapshot, live: PgSnapshot, changed: PgSnapshot
) -> list[Problem]:
    """New NOT NULL columns without a default (nor identity, nor generation) on live tables
    that hold rows: ADD COLUMN would have to fill them with NULL, which it refuses."""

    found = list(new_not_null_columns(desired, live, changed.tables.values()))
    if not found:
        return []
    held = holding_rows(conn, sorted({live_key for live_key, _, _ in found}))
    return [
        Problem(
            f"column {t.schema}.{t.name}.{c.name} is NOT NULL without a default, and table "
            f"{live_key[0]}.{live_key[1]} has rows: adding it would fail; give it a default, "
            "or add it nullable, fill it, then make it NOT NULL",
            source=c.source or t.source,
        )
        for live_key, t, c in found
        if live_key in held
    ]


def new_not_null_columns(
    desired: PgSnapshot, live: PgSnapshot, tables: Iterable[Table]
) -> Iterator[tuple[tuple[str, str], Table, Column]]:
    """(live table, desired table, column) for each column a plan adds to an existing table
    with NOT NULL and nothing to fill the existing rows with (a rebuilt table is created
    anew, its rows carried over: diff/rebuilds.py), among `tables` of the desired state
    (a table live holds as it is adds none)."""
    rebuilt = rebuilt_tables(desired, live)
    for t in tables:
        live_t = live.tables.get((t.schema, t.name))
        if live_t is None and t.renamed_from:
            live_t = live.tables.get((t.schema, t.renamed_from))
        if live_t is None or (t.schema, t.name) in rebuilt:
            continue
        for c in t.columns:
            if live_t.column(c.name) or (c.renamed_from and live_t.column(c.renamed_from)):
                continue
            if c.default is not None or c.identity or c.generated is not None:
                continue
            domain = _domain_of(c.type, desired, live)
            if domain is not None and domain.default is not None:
                continue  # the domain's default fills the rows
            if c.nullable and (domain is None or not domain.not_null):
                continue
            yield (live_t.schema, live_t.name), t, c


def _domain_of(type_: str, desired: PgSnapshot, live: PgSnapshot):
    names = type_names(type_)
    if names is None or type_.endswith("]"):
        return None
    key = (names[0], names[1]) if len(names) == 2 else (APPLY_SEARCH_PATH, names[0])
    return desired.domains.get(key) or live.domains.get(key)
