"""Introspection: read live state into the same value model the desired state uses.

Owns: the catalog queries (`sql/<kind>.sql`, one per object kind, bulk, ordered) and their
translation into `PgSnapshot`. Must not: write anything — it runs in a read-only transaction (or
inside the caller's, behind a savepoint it rolls back), and never decides what a difference means.
"""
