"""Recorded state: what was applied and rolled back, when, by whom, and what it left behind.

Owns: the record types and the StateBackend protocol (base.py), who records (actor.py), and
the backends — postgres.py keeps state in schema `reconciler` of the target database, writing
in the caller's transaction so a state row commits or rolls back with the change it describes;
file.py keeps it under `state/` for runs that target only Redis (each write commits at once,
journaled).

Must not: decide what to apply or roll back (api/apply do), open connections (callers pass
them), or commit on its own except where a row must outlive a crash (attempt bookkeeping).
Every backend passes the conformance suite in tests/state/test_state.py.
"""
