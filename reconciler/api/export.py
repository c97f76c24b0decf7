"""Export: a live PostgreSQL database or Redis keyspace written out as desired-state YAML.

Owns: the use cases of `export --pg` and `export --redis`: connecting, reading under the
project's scope and handing the result to export/ (which writes the files).

Must not: print (the CLI renders PgExport and RedisExport), or write anything to a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.connect import connect_pg
from reconciler.export.pg.write import export as write_pg
from reconciler.model.snapshot import PgSnapshot
from reconciler.pipeline.collector import collector_paused
from reconciler.project.config import resolve_scope
from reconciler.project.scope import Scope

if TYPE_CHECKING:
    from reconciler.export.redis.write import RedisExport


@dataclass
class PgExport:
    """What an export of PostgreSQL read and wrote."""

    snapshot: PgSnapshot
    files: list[Path]
    moved: list[Path] = field(default_factory=list)  # files not written again, moved aside


def export_pg(pg_url: str, out_dir: Path, *, scope: Scope | None = None) -> PgExport:
    """Write the live database under `out_dir` as YAML (`scope`: as for api.plan)."""
    from reconciler.introspect.pg.catalog import introspect  # deferred: psycopg's catalog reads

    scope = resolve_scope(scope, out_dir)
    sibling = partial(connect_pg, pg_url, command="export")  # a second reader of the catalog
    moved: list[Path] = []
    with collector_paused():  # the catalog's rows, its model and the documents: bounded
        with sibling() as conn:
            snap = introspect(conn, scope=scope, sibling=sibling)
        files = write_pg(snap, out_dir, moved=moved)
    return PgExport(snap, files, moved)


def export_redis(redis_url: str, out_dir: Path) -> RedisExport:
    """Write the live keyspace under `out_dir/keys/` as inferred key patterns."""
    from reconciler.export.redis.write import export_redis as write_redis  # deferred: redis-py
    from reconciler.introspect.redis import connect_redis  # deferred: redis-py

    client = connect_redis(redis_url, command="export")
    try:
        return write_redis(client, out_dir)
    finally:
        client.close()
