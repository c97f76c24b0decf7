"""A PostgreSQL connection opened when it is first used.

Owns: OnFirstUse, which stands for a psycopg connection: its first attribute read or write
opens the connection (by the function it was given) and every use after goes to it.
Must not: open anything before that first use, or be used where psycopg checks a connection's
type (TypeInfo.fetch): none of its users does.

A plan whose catalog was read ahead (pipeline/prefetch.py) and that then has nothing to ask
the server (no text to probe, the target named by the read ahead) never connects by itself,
and never loads the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class OnFirstUse:
    """A connection opened by `opener` when an attribute of it is first read or set."""

    __slots__ = ("_conn", "_opener")

    def __init__(self, opener: Callable[[], Any]) -> None:
        object.__setattr__(self, "_opener", opener)
        object.__setattr__(self, "_conn", None)

    def opened(self) -> Any:
        """The connection, opened now if it was not yet."""
        if self._conn is None:
            object.__setattr__(self, "_conn", self._opener())
        return self._conn

    def close_if_opened(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def __getattr__(self, name: str) -> Any:  # only for names the class does not have
        return getattr(self.opened(), name)

    def __setattr__(self, name: str, value: Any) -> None:  # `conn.autocommit = …`
        setattr(self.opened(), name, value)
