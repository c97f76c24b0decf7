"""The rows a catalog read returns, before any model value is built: what they hold and their
digest.

Owns: KINDS (the kinds a read returns, in digest order), CatalogRows and kind_digest.
Must not: import the driver: a plan whose catalog was read ahead (pipeline/prefetch.py) holds
these rows without loading psycopg; catalog.py reads them.
"""

from __future__ import annotations

import hashlib
import marshal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.model.snapshot import PgSnapshot

Rows = list[tuple[Any, ...]]

KINDS = (
    "objects",  # schemas, extensions and enum types
    "tables",
    "columns",
    "constraints",
    "indexes",
    "views",
    "functions",
    "triggers",
    "policies",
    "rules",
    "aggregates",
    "unsupported",  # objects the model cannot express, and what they need of the others
    "fingerprint",  # the whole database's catalogs summed: what the probes of a plan may read
)


@dataclass(frozen=True, slots=True)
class CatalogRows:
    """The rows of every kind's query, as read, before any model value is built."""

    rows: dict[str, Rows]
    server_version: int
    readers: int = 1  # connections the rows were read on (2: shared with a sibling)
    fingerprinted: bool = True  # the fingerprint kind was read (read_catalog's `fingerprint`)
    # kind → kind_digest of its rows, for the kinds hashed while the other connection read
    hashed: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def digest(self) -> str:
        """sha256 over every row, whatever order the server sent them in: equal digests,
        equal catalogs. (The queries have no ORDER BY, and right after a migration the
        planner's choices, hence the order, change as autovacuum analyzes the catalog.)"""
        if not self.fingerprinted:
            raise ValueError("the catalog was read without its fingerprint: it has no digest")
        h = hashlib.sha256(b"catalog/4 %d" % self.server_version)
        for kind in KINDS:
            found = self.hashed.get(kind) or kind_digest(self.rows[kind])
            h.update(b"\n%s\n%s" % (kind.encode(), found))
        return h.hexdigest()

    def snapshot(self) -> PgSnapshot:
        # deferred: start-up: a plan settled by the digest builds no model value
        from reconciler.introspect.pg.rows import snapshot

        return snapshot(self.rows)

    def unsupported(self) -> tuple[tuple[str, str], ...]:
        return tuple((k, name) for k, name, address, _ in self.rows["unsupported"] if not address)


def kind_digest(rows: Rows) -> bytes:
    """sha256 of one kind's rows, whatever order they came in: each row marshalled (C code,
    twice as fast as repr on a large catalog), the rows' bytes sorted and marshalled as one
    list, which keeps each one's length. Marshal format 2 writes no back-references, so equal
    rows give equal bytes. A value marshal cannot write (no query reads one today) sends the
    kind through repr instead; the first byte says which."""
    try:
        text = b"m" + marshal.dumps(sorted([marshal.dumps(row, 2) for row in rows]), 2)
    except ValueError:
        text = b"r" + "\n".join(sorted(map(repr, rows))).encode("utf-8", "surrogateescape")
    return hashlib.sha256(text).digest()
