"""The bench's own throwaway PostgreSQL cluster and its databases.

Started with reconciler.dev.start_postgres in the run's temporary directory (bench_root:
RAM-backed /dev/shm when it has room, like the test suite, else $TMPDIR), stopped at the end;
bench_root removes the directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from reconciler import dev
from reconciler.errors import ReconcilerError

# Lines of the server log that bench.querylog parses: time, pid and database of each entry.
LOG_LINE_PREFIX = "%m [%p] db=%d "


def _parent_dir() -> str | None:
    shm = "/dev/shm"
    try:
        stats = os.statvfs(shm)
        if os.access(shm, os.W_OK | os.X_OK) and stats.f_bavail * stats.f_frsize >= 2 << 30:
            return shm
    except OSError:
        pass
    return None  # tempfile's default


def client_binary(name: str) -> str:
    """psql / pg_dump from the server's own bin directory when present (versions match)."""
    try:
        candidate = dev.find_pg_bindir() / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    except ReconcilerError:
        pass
    found = shutil.which(name)
    if found is None:
        raise ReconcilerError(f"{name} was not found; run `make setup`.")
    return found


@dataclass
class BenchCluster:
    root: Path
    server: dev.PgServer

    @property
    def log_path(self) -> Path:
        return self.server.datadir / "server.log"

    def url(self, dbname: str) -> str:
        return self.server.url(dbname)

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def query(self, text: str, dbname: str = "postgres") -> list[tuple]:
        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            return conn.execute(text).fetchall()  # type: ignore[arg-type]  # our own SQL

    def create_database(self, name: str, *, template: str = "template0") -> str:
        with self.admin() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def set_database(self, name: str, setting: str, value: str) -> None:
        with self.admin() as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(name), sql.Identifier(setting), sql.Literal(value)
                )
            )

    def configure_logging(self) -> None:
        """A log line prefix naming the database, so statements can be told apart by origin."""
        with self.admin() as conn:
            conn.execute(
                sql.SQL("ALTER SYSTEM SET log_line_prefix = {}").format(
                    sql.Literal(LOG_LINE_PREFIX)
                )
            )
            conn.execute("SELECT pg_reload_conf()")

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def read_log(self, offset: int) -> str:
        with self.log_path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")


@contextmanager
def bench_root() -> Iterator[Path]:
    """The run's temporary directory (servers, code copy, work files), removed at the end."""
    root = Path(tempfile.mkdtemp(prefix="reconciler-bench-", dir=_parent_dir()))
    root.chmod(0o711)  # the server's OS user passes through, no listing
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def bench_cluster(root: Path) -> Iterator[BenchCluster]:
    """PostgreSQL in `root/pg`, stopped at the end."""
    server: dev.PgServer | None = None
    try:
        server = dev.start_postgres(root / "pg")
        cluster = BenchCluster(root=root, server=server)
        cluster.configure_logging()
        yield cluster
    finally:
        if server is not None:
            server.stop()
