"""Server-side time limits of an apply (kept apart so Redis-only runs never load psycopg)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timeouts:
    lock_timeout: str = "5s"  # how long one DDL statement may wait for a table lock
    statement_timeout: str = "30min"
    lock_retries: int = 3  # further tries of a transaction or statement whose lock timed out
    first_pause: float = 1.0  # seconds before the first retry; doubled for each next one

    def session_values(self) -> tuple[str, str]:
        """lock_timeout and statement_timeout, in that order, as set_config takes them."""
        return self.lock_timeout, self.statement_timeout

    def retry_pause(self, tries: int) -> float:
        """Seconds to wait before retry number `tries` + 1."""
        return self.first_pause * 2**tries
