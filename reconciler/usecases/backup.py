"""`reconciler backup` / `reconciler restore` (the seed's `make db_backup` / `make db_restore`).

A backup is a set of files sharing one UTC stamp under the backup directory:

- `<stamp>.dump`: the Postgres database, `pg_dump -Fc` (schema and rows);
- `<stamp>.redis`: every key of the Redis database with its value (`DUMP`, the server's own
  serialization) and its absolute expiry, streamed by SCAN in batches (constant memory);
- `<stamp>.rdb`, only when asked (`rdb=True`, `backup --rdb`): the server's RDB snapshot
  fetched with `redis-cli --rdb` — for a disaster recovery by hand (a running server cannot
  load one). Not by default: it is a full replication sync (a fork on the server), and a
  server with diskless replication (the default since Redis 7) waits
  `repl-diskless-sync-delay` (5 s by default) before it starts one, which was nearly all of a
  small backup's time; `restore` never reads it.

`restore` puts the Postgres database back with `pg_restore --clean --if-exists` in one
transaction (a truncated file or an interrupted restore leaves the database as it was) and the keys
with `RESTORE … REPLACE ABSTTL`: a key gets back its value and its expiry (one that passed
meanwhile is not restored: it would have expired). Restore puts back what the backup holds and
removes nothing else: a table, schema or key created after the backup is kept.

The `.redis` format: the line `reconciler-redis-backup 1\\n`, then per key: key length (4
bytes, big endian), key, expiry in Unix milliseconds (8 bytes, signed; -1 none), value length
(4 bytes), value.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit, urlunsplit

from reconciler.connect.pgclient import client_binary, run_client
from reconciler.errors import InputError, ReconcilerError
from reconciler.model.words import counted

MAGIC = b"reconciler-redis-backup 1\n"
_BATCH = 500  # keys per SCAN and pipeline: DUMP payloads are bigger than the plan's replies
_NEEDS = "backup needs SCAN, DUMP and PEXPIRETIME on every key"


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


Progress = Callable[[str], None]


def _quiet(_line: str) -> None:
    pass


def backup(
    pg_url: str | None,
    redis_url: str | None,
    out_dir: Path,
    *,
    rdb: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Write the backup files; the paths written, in order. `progress` is told each step as
    it starts ("Dumping PostgreSQL…"), for a caller that shows it.

    A backup holds every row and value, secrets included: each file is created readable and
    writable by its owner only (0600) before any byte goes in, whatever the umask, and a new
    backup directory is the owner's only (0700)."""
    say = progress or _quiet
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = stamp()
    while any(out_dir.glob(f"{name}.*")):  # two backups within one second
        name = str(int(name) + 1)
    written = []
    if pg_url:
        path = out_dir / f"{name}.dump"
        os.close(_create_private(path))  # pg_dump then writes into it, keeping its mode
        say(f"Dumping PostgreSQL (pg_dump -Fc) into {path}…")
        try:
            run_client([client_binary("pg_dump"), "-Fc", f"--file={path}", f"--dbname={pg_url}"])
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        written.append(path)
    if redis_url:
        path = out_dir / f"{name}.redis"
        dump_keys(redis_url, path, progress=say)
        written.append(path)
        if rdb:
            say("Fetching the Redis server's RDB snapshot (redis-cli --rdb, a full sync)…")
            snapshot = _rdb(redis_url, out_dir / f"{name}.rdb")
            if snapshot is None:
                say("No RDB snapshot: redis-cli is not installed, or this is a cluster.")
            else:
                written.append(snapshot)
    return written


def _create_private(path: Path) -> int:
    """A new, empty file at `path` with mode 0600 (never an existing one); its descriptor."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ReconcilerError(f"{path} exists already; a backup never overwrites a file.") from None
    # The mode given to open() is narrowed by the umask, never widened: only a umask that
    # takes the owner's own rights could leave less than 0600, and fchmod restores exactly that.
    os.fchmod(fd, 0o600)
    return fd


def _rdb(redis_url: str, path: Path) -> Path | None:
    """The server's RDB snapshot (redis-cli --rdb); none of a cluster, whose keyspace no one
    node's snapshot holds (the .redis file has every primary's keys)."""
    cli = shutil.which("redis-cli")
    if cli is None:
        return None
    url, env = _cli_target(redis_url)
    info = subprocess.run(
        [cli, "-u", url, "INFO", "cluster"], capture_output=True, text=True, check=False, env=env
    )
    if "cluster_enabled:1" in info.stdout:
        return None
    os.close(_create_private(path))  # redis-cli writes into it, keeping its mode
    argv = [cli, "-u", url, "--rdb", str(path)]
    r = subprocess.run(argv, capture_output=True, check=False, env=env)
    if r.returncode == 0 and path.stat().st_size > 0:
        return path
    path.unlink(missing_ok=True)
    return None


def _cli_target(redis_url: str) -> tuple[str, dict[str, str]]:
    """The URL for `redis-cli -u` without its password, and an environment giving the password
    in REDISCLI_AUTH instead: a command line is readable by every user of the machine (ps)."""
    parts = urlsplit(redis_url)
    if parts.password is None:
        return redis_url, dict(os.environ)
    user = f"{parts.username}@" if parts.username else ""
    netloc = user + parts.netloc.rpartition("@")[2]
    url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url, {**os.environ, "REDISCLI_AUTH": unquote(parts.password)}


def dump_keys(redis_url: str, path: Path, *, progress: Progress | None = None) -> int:
    """Every key of the database with its value and expiry into `path`; the number of keys.

    The keys are read by the SCAN loop every reader shares (introspect/redis/scan.py), each
    with DUMP and its expiry; a key whose slot moved to another node of a cluster while the
    backup ran (a resharding) cannot be read there, and makes the backup fail as incomplete."""
    from reconciler.introspect.redis import connect_redis  # deferred: loads redis
    from reconciler.introspect.redis.scan import stream_keys, uses_pttl  # deferred: loads redis

    def commands(node: Any) -> tuple[bytes, bytes]:  # a server before 7.0 has no PEXPIRETIME
        return (b"DUMP", b"PTTL" if uses_pttl(node) else b"PEXPIRETIME")

    client = connect_redis(redis_url, command="backup")
    if progress is not None:
        try:
            size: Any = client.dbsize()  # a cluster: the sum over its primaries
        except Exception:
            size = None
        many = f"{size:,} " if isinstance(size, int) else ""
        progress(f"Reading {many}Redis keys into {path}…")
    count = 0
    streams: dict[int, Any] = {}  # one per node: the keys each could not read (`moved`)
    tmp = path.with_name(path.name + ".part")
    try:
        with os.fdopen(_create_private(tmp), "wb") as out:
            out.write(MAGIC)
            batches = stream_keys(client, commands, batch=_BATCH, needs=_NEEDS)
            with contextlib.closing(batches):
                for stream, got in batches:  # a cluster: every primary's keys
                    relative = stream.per_key[1] == b"PTTL"
                    count += _write_batch(stream, got.keys, got.replies, out, relative=relative)
                    streams[id(stream)] = stream
        moved = sum(stream.moved for stream in streams.values())
        if moved:
            raise ReconcilerError(
                f"The Redis backup is incomplete: {counted(moved, 'key')} could not be read, "
                "their slot moved to another node of the cluster while the backup ran "
                "(a resharding).",
                detail="Run the backup again once the resharding is done (CLUSTER INFO: ok).",
            )
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
        client.close()
    return count


def _write_batch(
    stream: Any, keys: list[bytes], replies: list[Any], out: BinaryIO, *, relative: bool
) -> int:
    now_ms = int(time.time() * 1000)
    written = 0
    for i, key in enumerate(keys):
        payload, expiry = replies[2 * i], replies[2 * i + 1]
        odd = expiry.__class__ is not int or isinstance(payload, Exception)
        if odd and not stream.usable(key, (payload, expiry)):  # raises for a refused command
            continue  # its slot moved: counted, and the backup refused as incomplete
        if payload is None or expiry == -2:
            continue  # gone since the scan
        expire_at = expiry  # the exact absolute expiry; before 7.0 the closest PTTL gives
        if expiry < 0:
            expire_at = -1
        elif relative:
            expire_at = now_ms + expiry
        out.write(struct.pack(">I", len(key)) + key)
        out.write(struct.pack(">qI", expire_at, len(payload)) + payload)
        written += 1
    return written


def read_keys(path: Path) -> Iterator[tuple[bytes, int, bytes]]:
    """(key, expiry in Unix ms or -1, DUMP payload) of every key in a `.redis` backup."""
    with path.open("rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise InputError(f"{path} is not a Reconciler Redis backup.")
        while head := f.read(4):
            try:
                (klen,) = struct.unpack(">I", head)
                key = _exactly(f, klen)
                expire_at, vlen = struct.unpack(">qI", _exactly(f, 12))
                yield key, expire_at, _exactly(f, vlen)
            except struct.error:
                raise InputError(f"{path} is truncated.") from None


def _exactly(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise InputError("The backup file is truncated.")
    return data


def restore(files: list[Path], pg_url: str | None, redis_url: str | None) -> list[str]:
    """Put back what the files hold; one line per thing restored."""
    done = []
    for path in files:
        if path.suffix == ".dump":
            if not pg_url:
                raise InputError(f"{path} is a Postgres backup: give --pg URL.")
            argv = [client_binary("pg_restore"), "--clean", "--if-exists", "--no-owner"]
            # One transaction: a file that ends early, an error or a Ctrl-C half way leaves
            # the database as it was, never half restored.
            argv += ["--single-transaction", "--exit-on-error"]
            try:
                run_client([*argv, f"--dbname={pg_url}", str(path)])
            except ReconcilerError as exc:
                before = f"; done before it: {'; '.join(done)}" if done else ""
                raise ReconcilerError(
                    f"The restore of {path} failed, and the database is as it was (the restore "
                    f"runs in one transaction){before}: {exc.summary}",
                    detail="An object created after the backup may depend on one the backup "
                    "replaces (DETAIL names it): drop it first, then restore again.",
                ) from None
            done.append(f"Postgres restored from {path}")
        elif path.suffix == ".redis":
            if not redis_url:
                raise InputError(f"{path} is a Redis backup: give --redis URL.")
            restored, expired = restore_keys(redis_url, path)
            keys = counted(restored, "Redis key")
            done.append(f"{keys} restored from {path} ({expired} had expired)")
        else:
            raise InputError(f"{path}: not a backup file (.dump or .redis).")
    return done


def restore_keys(redis_url: str, path: Path) -> tuple[int, int]:
    """RESTORE every key (REPLACE, with its absolute expiry); (restored, already expired)."""
    import redis  # deferred: a Postgres-only restore does not load redis

    from reconciler.introspect.redis import connect_redis  # deferred: loads redis

    client = connect_redis(redis_url, command="restore")
    restored = expired = 0
    try:
        batch: list[tuple[bytes, int, bytes]] = []
        for item in read_keys(path):
            batch.append(item)
            if len(batch) >= _BATCH:
                r, e = _restore_batch(client, batch)
                restored, expired, batch = restored + r, expired + e, []
        r, e = _restore_batch(client, batch)
        restored, expired = restored + r, expired + e
    except redis.RedisError as exc:
        raise ReconcilerError(f"Restoring the Redis keys failed: {exc}") from None
    finally:
        client.close()
    return restored, expired


def _restore_batch(client: Any, batch: list[tuple[bytes, int, bytes]]) -> tuple[int, int]:
    if not batch:
        return 0, 0
    now_ms = int(time.time() * 1000)
    pipe = client.pipeline(transaction=False)
    restored = expired = 0
    for key, expire_at, payload in batch:
        if 0 <= expire_at <= now_ms:
            expired += 1
            continue
        ttl = max(expire_at, 0)
        pipe.restore(key, ttl, payload, replace=True, absttl=expire_at >= 0)
        restored += 1
    pipe.execute()
    return restored, expired


def backup_files(given: Path) -> list[Path]:
    """The files of the backup `given` names (one of its files, or its stamp's path prefix)."""
    stem = given.with_suffix("") if given.suffix in (".dump", ".redis", ".rdb") else given
    found = [p for p in (stem.with_suffix(".dump"), stem.with_suffix(".redis")) if p.exists()]
    if not found:
        raise InputError(f"No backup at {given} (looked for {stem.name}.dump and .redis).")
    return found
