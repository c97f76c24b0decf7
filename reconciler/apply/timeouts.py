"""Server-side time limits of an apply (kept apart so Redis-only runs never load psycopg)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timeouts:
    lock_timeout: str = "5s"  # how long one DDL statement may wait for a table lock
    statement_timeout: str = "30min"
