"""Read a live Redis: the keyspace aggregated per desired pattern, server config and ACL users.

The import path for Redis introspection; the work is done, one concept per module, by:

- server.py: connecting (`connect_redis`), CONFIG GET (`read_config`), ACL users
  (`read_acl`) and the server's own spelling of desired ACL rules (`canonical_acl`);
- keys.py: the keyspace aggregated per pattern (`scan_keyspace`), the values of the keys a
  prune deletes (`prune_dumps`), and how keys are spelled in Python (`key_text`, `key_bytes`,
  `cli_quote`); match.py: which pattern a key counts for;
- scan.py: the one SCAN loop every reader of the keyspace uses (plan, export, backup), with one
  behaviour for keys whose slot moves during a cluster's scan and for refused commands;
- cluster.py: a Redis Cluster's primaries, scanned in parallel, and settings read on every node;
- wire.py: packed commands and hiredis replies on one pooled connection, for the scan.

Modules import downwards only: wire ← cluster ← scan ← keys (which uses match), server.

Must not: hold code of its own, but for `connect_redis`, which is server.py's, its
failures told without any secret (reconciler.connect). Anything new goes to the module that
owns its concept.
"""

from __future__ import annotations

import redis

from reconciler.connect import check_one_at, hide_secrets, redis_refusal
from reconciler.errors import ReconcilerError
from reconciler.introspect.redis import server as redis_server
from reconciler.introspect.redis.keys import (
    KEY_ENCODING,
    KEY_ERRORS,
    MAX_EXAMPLES,
    MAX_MISMATCH_EXAMPLES,
    MAX_UNMATCHED_EXAMPLES,
    MAX_UNMATCHED_PREFIXES,
    TOOL_NAMESPACE,
    TTL_TOLERANCE_MS,
    UNMATCHED_OVERFLOW,
    cli_quote,
    key_bytes,
    key_text,
    prune_dumps,
    scan_keyspace,
)
from reconciler.introspect.redis.server import (
    CONNECT_TIMEOUT_S,
    PROBE_USER_PREFIX,
    SOCKET_TIMEOUT_S,
    canonical_acl,
    read_acl,
    read_config,
)

__all__ = [
    "CONNECT_TIMEOUT_S",
    "KEY_ENCODING",
    "KEY_ERRORS",
    "MAX_EXAMPLES",
    "MAX_MISMATCH_EXAMPLES",
    "MAX_UNMATCHED_EXAMPLES",
    "MAX_UNMATCHED_PREFIXES",
    "PROBE_USER_PREFIX",
    "SOCKET_TIMEOUT_S",
    "TOOL_NAMESPACE",
    "TTL_TOLERANCE_MS",
    "UNMATCHED_OVERFLOW",
    "canonical_acl",
    "cli_quote",
    "connect_redis",
    "key_bytes",
    "key_text",
    "prune_dumps",
    "read_acl",
    "read_config",
    "scan_keyspace",
]


def connect_redis(url: str, *, command: str) -> redis.Redis:
    """redis_server.connect_redis, whose failure is one sentence without any password in it:
    a server refusing to authenticate says where the password goes (or that it was wrong)."""
    check_one_at(url)
    try:
        return redis_server.connect_redis(url, command=command)
    except ReconcilerError as failure:
        # The driver's error, kept as the context by connect_redis's `raise … from None`.
        raise redis_refusal(url, failure.__context__) or hide_secrets(failure, url) from None
