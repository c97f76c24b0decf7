"""A desired state with many changes in both engines, for the attack tests to apply.

PostgreSQL: a chain of tables, each with a foreign key to the one before, an index and a
comment (about four statements a table). Redis: keys under one namespace whose TTLs the plan
fixes (three pipelined batches of a few hundred keys).
"""

from __future__ import annotations

import time
from pathlib import Path

import redis

from tests.helpers import write_yaml

KEY_SPEC = """\
namespace: app
patterns:
  - pattern: "app:session:{id}"
    type: string
    class: session
"""
SESSION_TTL_MS = 86_400_000  # the class `session` wants a TTL of at most a day


def write_project(root: Path, tables: int = 40, *, redis_keys: bool = True) -> Path:
    """The YAML of `tables` chained tables (and the key spec); returns the schemas folder."""
    schemas = root / "schemas"
    for i in range(tables):
        fk = f"\nforeign_keys:\n  - columns: [parent_id]\n    references: t{i - 1:03d}" if i else ""
        parent = "\n  - {name: parent_id, type: bigint}" if i else ""
        write_yaml(
            schemas,
            f"tables/t{i:03d}.yaml",
            f"table: t{i:03d}\ncomment: table number {i}\ncolumns:\n"
            "  - {name: id, type: bigint, nullable: false}\n"
            f"  - {{name: label, type: text}}{parent}\n"
            "primary_key: [id]\n"
            f"indexes:\n  - {{columns: [label]}}{fk}\n",
        )
    if redis_keys:
        write_yaml(schemas, "keys/app.yaml", KEY_SPEC)
    return schemas


def seed_keys(client: redis.Redis, n: int = 1200) -> None:
    """`n` session keys without a TTL (each one a change), plus one that already conforms."""
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"app:session:{i}", f"v{i}")
    pipe.set("app:session:ok", "fine", ex=3600)
    pipe.execute()


def key_sides(client: redis.Redis) -> dict[str, int]:
    """How many session keys are on each side of the plan: 'before' (no TTL, as seeded),
    'after' (a TTL within the class's limit), 'neither' (anything else: a defect)."""
    now_ms = int(time.time() * 1000)
    sides = {"before": 0, "after": 0, "neither": 0}
    for key in client.scan_iter(match="app:session:*", count=1000):
        if key in (b"app:session:ok", "app:session:ok"):
            continue
        expiry = client.pexpiretime(key)
        if expiry == -1:
            sides["before"] += 1
        elif 0 < expiry - now_ms <= SESSION_TTL_MS:
            sides["after"] += 1
        else:
            sides["neither"] += 1
    return sides
