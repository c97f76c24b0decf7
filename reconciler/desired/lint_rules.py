"""The lint rules' vocabulary: each rule's name, severity and description, which rules a key
pattern or an ACL user may ignore, and `LintIgnore` (one `lint: {ignore: …}` entry).

Owns: what the builders record while loading (tables.py, keys.py) and lint.py reports by.
Must not: check anything (lint.py does) or import another desired module: it is a leaf.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RULES: dict[str, tuple[str, str]] = {
    "table-name": ("warning", "table names are lowercase snake_case and plural"),
    "column-name": ("warning", "column names are lowercase snake_case"),
    "index-name": ("warning", "index names start with idx_<table>_<column>"),
    "fk-name": ("warning", "foreign key names start with fk_<table>_<ref_table>"),
    "pk-uuid-id": ("error", "the primary key is the single column `id uuid`"),
    "timestamps": ("error", "tables have created_at and updated_at timestamp columns"),
    "enum-name": ("warning", "enum names are lowercase snake_case"),
    "key-pattern": (
        "warning",
        "key patterns are <namespace>:<entity>:<id>[:<attribute>]: lowercase snake_case "
        "literal segments, the namespace first, a {placeholder} for the id",
    ),
    "key-type-class": (
        "warning",
        "the data type fits the key class (cache/session: string or hash, queue: list or "
        "stream, ratelimit: zset or string)",
    ),
    "key-ttl": (
        "error",
        "keys of the classes cache, session, ratelimit and lock expire; a TTL other than the "
        "class default has a reason",
    ),
    "acl-nopass": ("warning", "enabled ACL users log in with a password, not nopass"),
}
KEY_RULES = ("key-pattern", "key-type-class", "key-ttl")  # may be ignored per key pattern
ACL_RULES = ("acl-nopass",)  # may be ignored per ACL user


@dataclass(frozen=True, slots=True)
class LintIgnore:
    rule: str
    reason: str
    source: str | None = field(default=None, compare=False)
