"""What a role lacks when PostgreSQL refuses it, and the grant that fixes it.

Owns: turning "permission denied for …" and "must be owner of …" (SQLSTATE 42501) into one
sentence naming the role, the privilege, the object and the GRANT (or the owner) that fixes it,
for the state schema and for the objects an apply changes.
Must not: run anything (the role is the connection's user, read from the connection's info).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reconciler.model.names import TOOL_SCHEMA, TRASH_SCHEMA

if TYPE_CHECKING:
    import psycopg

INSUFFICIENT_PRIVILEGE = "42501"

_DENIED = re.compile(r'permission denied for (database|schema) "?(.+?)"?$')
_OWNER = re.compile(r"must be owner of (\w+(?: \w+)*?) (\S+)$")


def _q(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def privilege_reason(exc: psycopg.Error, conn: psycopg.Connection) -> str | None:
    """The sentence for a privilege the connection's role lacks, None for any other error."""
    import psycopg  # deferred: start-up: psycopg

    if exc.sqlstate != INSUFFICIENT_PRIVILEGE:
        return None
    primary = (exc.diag.message_primary or "").strip()
    try:
        role = _q(conn.info.user or "current_user")
    except psycopg.Error:  # the connection is gone: the role is not known any more
        role = "current_user"
    if found := _DENIED.match(primary):
        kind, name = found.groups()
        if kind == "database":
            return (
                f"role {role} lacks CREATE on database {name}, which creating a schema needs "
                f"(reconciler keeps its state in schema {TOOL_SCHEMA}, created on first use, "
                f"and dropped data in {TRASH_SCHEMA}): GRANT CREATE ON DATABASE {_q(name)} TO "
                f"{role}, or run as the database owner, or have the owner create the schema "
                f"for the role (CREATE SCHEMA {TOOL_SCHEMA} AUTHORIZATION {role}; the same "
                f"for {TRASH_SCHEMA} and any schema the YAML declares)"
            )
        if name == TOOL_SCHEMA:
            return (
                f"role {role} lacks USAGE and CREATE on schema {TOOL_SCHEMA}, where reconciler "
                f"keeps its state: GRANT USAGE, CREATE ON SCHEMA {TOOL_SCHEMA} TO {role} (and "
                f"on its tables: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
                f"{TOOL_SCHEMA} TO {role}), or run as the role that created it"
            )
        return (
            f"role {role} lacks USAGE or CREATE on schema {name}: GRANT USAGE, CREATE ON "
            f"SCHEMA {_q(name)} TO {role}, or run as the schema owner"
        )
    if found := _OWNER.match(primary):
        kind, name = found.groups()
        return (
            f"role {role} does not own {kind} {name}, and only its owner may alter or drop it: "
            f"run as the owner, or make {role} a member of it (GRANT <owner> TO {role})"
        )
    return None
