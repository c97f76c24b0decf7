"""Introspection: read live state into the same value model the desired state uses.

Owns: the catalog queries (`sql/<kind>.sql`, one per object kind, bulk, ordered) and their
translation into `PgSnapshot`. Must not: write anything — it runs in a read-only transaction (or
inside the caller's, behind a savepoint it rolls back), and never decides what a difference means.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEPARSE_SETTINGS", "introspect"]


def __getattr__(name: str) -> Any:
    # Lazy: a Redis-only run imports reconciler.introspect.redis without loading psycopg.
    if name in __all__:
        from reconciler.introspect.pg import catalog as postgres

        return getattr(postgres, name)
    raise AttributeError(name)
