"""The Redis server as a whole: connecting to it, its configuration and its ACL users.

Owns: `connect_redis` (a named bytes client, checked by PING, with the password kept out of every
message), CONFIG GET of the desired parameters, ACL LIST parsed into AclUser (rules in the
server's own spelling and order), and `canonical_acl`, which asks the server how it spells the
desired users' rules.

Must not: change anything a user of the server can see. canonical_acl's scratch users are its
only writes: disabled, without passwords, deleted before it returns, and never reported by
read_acl. Keys are keys.py's; what a difference means is reconciler.diff.redis's.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from reconciler.connect import redact
from reconciler.errors import ConnectionFailed, InputError, ReconcilerError
from reconciler.introspect.redis.cluster import cluster_enabled, is_cluster, on_every_node
from reconciler.introspect.redis.wire import failed
from reconciler.model.redis import AclUser, ConfigParam

__all__ = [
    "CONNECT_TIMEOUT_S",
    "PROBE_USER_PREFIX",
    "SOCKET_TIMEOUT_S",
    "canonical_acl",
    "connect_redis",
    "read_acl",
    "read_config",
]

PROBE_USER_PREFIX = "reconciler-probe-"
CONNECT_TIMEOUT_S, SOCKET_TIMEOUT_S = 10.0, 60.0


# ------------------------------------------------------------------------------- connecting


def connect_redis(url: str, *, command: str) -> redis.Redis:
    """A bytes client named `reconciler/<command>` (CLIENT LIST shows who scans; unnamed when
    the user may not run CLIENT SETNAME), checked by PING.

    When the server is a node of a Redis Cluster, the client returned is a redis.RedisCluster
    seeded from it (cluster.py): keyed commands go to the node owning the key's slot and
    follow MOVED/ASK redirections; the scan and server-wide reads go node by node.

    No retries: a scan that lost its connection is restarted by the next run, not resumed."""
    options: dict[str, Any] = {
        "decode_responses": False,
        "client_name": f"reconciler/{command}",
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "socket_timeout": SOCKET_TIMEOUT_S,
    }
    try:
        client = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **options)
    except ValueError as exc:
        raise InputError(
            f"Not a Redis URL: {redact(url)} (expected redis://, rediss:// or unix://).",
            detail=str(exc).replace(url, redact(url)),
        ) from None
    try:
        try:
            client.ping()
        except redis.exceptions.NoPermissionError as exc:
            if "setname" not in str(exc).lower():
                raise
            # A user without CLIENT SETNAME (a read-only one) still reads: without the name.
            client.close()
            del options["client_name"]
            client = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **options)
            client.ping()
        clustered = cluster_enabled(client)
        if clustered:
            client.close()
            client = redis.RedisCluster.from_url(url, **options)
    except (redis.RedisError, OSError) as exc:
        client.close()
        raise ConnectionFailed(
            f"Cannot connect to Redis at {redact(url)}: {_reason(exc, url)}",
            detail="Check the URL, that the server runs, and that it accepts this user.",
        ) from None
    return client


def _reason(exc: BaseException, url: str) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.replace(url, redact(url))


# -------------------------------------------------------------------------- config and ACL


def read_config(client: redis.Redis, names: Iterable[str]) -> dict[str, ConfigParam]:
    """CONFIG GET for each name (one pipeline); names the server does not know are left out.
    On a cluster, from every node, which must agree."""
    if is_cluster(client):
        wanted = tuple(names)
        return on_every_node(client, lambda node: read_config(node, wanted), "configuration")
    wanted = list(dict.fromkeys(names))
    pipe = client.pipeline(transaction=False)
    for name in wanted:
        pipe.execute_command("CONFIG", "GET", name)
    try:
        replies = pipe.execute(raise_on_error=False)
    except (redis.RedisError, OSError) as exc:
        raise failed("reading its configuration", exc) from None
    out: dict[str, ConfigParam] = {}
    for name, reply in zip(wanted, replies, strict=True):
        if isinstance(reply, Exception):
            raise failed(f"CONFIG GET {name}", reply)
        pairs = _config_pairs(reply)
        value = pairs.get(name.lower())
        if value is None and len(pairs) == 1:  # an alias answered under its other name
            value = next(iter(pairs.values()))
        if value is not None:
            out[name] = ConfigParam(name=name, value=value)
    return out


def _config_pairs(reply: Any) -> dict[str, str]:
    if isinstance(reply, dict):  # RESP3
        items = list(reply.items())
    else:
        items = list(zip(reply[::2], reply[1::2], strict=True))
    return {_text(k).lower(): _text(v) for k, v in items}


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def read_acl(client: redis.Redis) -> dict[str, AclUser]:
    """Every ACL user (one ACL LIST), with rules in the server's own spelling and order.

    Scratch users of a concurrent canonical_acl are not reported. On a cluster, from every
    node, which must agree."""
    if is_cluster(client):
        return on_every_node(client, read_acl, "ACL users")
    try:
        lines = client.execute_command("ACL", "LIST")
    except (redis.RedisError, OSError) as exc:
        raise failed("ACL LIST", exc) from None
    users = (_parse_acl_line(_text(line)) for line in lines)
    return {u.name: u for u in users if not u.name.startswith(PROBE_USER_PREFIX)}


def _parse_acl_line(line: str) -> AclUser:
    """`user alice on #<sha256> ~app:* resetchannels &c -@all +get (~x +set)` → AclUser.

    Tokens are split on spaces (the server forbids spaces in names and patterns) except inside a
    parenthesised selector, which stays one rule."""
    tokens = line.split(" ")
    if len(tokens) < 2 or tokens[0] != "user":
        raise ReconcilerError(f"Unexpected ACL LIST line from Redis: {line[:80]!r}")
    name, enabled, nopass = tokens[1], False, False
    hashes: list[str] = []
    rules: list[str] = []
    selector: list[str] | None = None
    for token in tokens[2:]:
        if selector is not None:
            selector.append(token)
            if token.endswith(")"):
                rules.append(" ".join(selector))
                selector = None
        elif token.startswith("(") and not token.endswith(")"):
            selector = [token]
        elif token in ("on", "off"):
            enabled = token == "on"
        elif token == "nopass":
            nopass = True
        elif token.startswith("#"):
            hashes.append(token[1:])
        elif token:
            rules.append(token)
    if selector is not None:
        rules.append(" ".join(selector))
    return AclUser(
        name=name,
        enabled=enabled,
        rules=tuple(rules),
        password_hashes=tuple(hashes),
        nopass=nopass,
    )


_NOT_RULES = ("on", "off", "nopass", "resetpass", "reset")


def canonical_acl(client: redis.Redis, users: Iterable[AclUser]) -> dict[str, AclUser]:
    """The desired users with `rules` as the server spells them: each user's rules are applied to
    a scratch user (`ACL SETUSER reconciler-probe-<random>-<n> reset <rules>`: disabled, without
    passwords, so nobody can log in as it), read back with read_acl's parser, and deleted."""
    wanted = list(users)
    token = secrets.token_hex(6)
    probes: list[tuple[AclUser, str, list[str]]] = []
    for n, user in enumerate(wanted):
        rules = []
        for i, rule in enumerate(user.rules, 1):
            if rule[:1] in (">", "<", "#", "!"):
                raise InputError(
                    f"ACL rule {i} of user {user.name} sets a password; passwords are given "
                    "only through password_env."
                )
            if rule.lower() not in _NOT_RULES:
                rules.append(rule)
        probes.append((user, f"{PROBE_USER_PREFIX}{token}-{n}", rules))
    if not probes:
        return {}
    if is_cluster(client):  # every node spells rules the same way: ask one primary
        client = client.get_redis_connection(client.get_primaries()[0])
    try:
        pipe = client.pipeline(transaction=False)
        for _, probe, rules in probes:
            pipe.execute_command("ACL", "SETUSER", probe, "reset", *rules)
        pipe.execute_command("ACL", "LIST")
        replies = pipe.execute(raise_on_error=False)
        for (user, _, _), reply in zip(probes, replies, strict=False):
            if isinstance(reply, Exception):
                raise InputError(
                    f"Redis rejects the ACL rules of user {user.name}: {_reason(reply, '')}"
                )
        if isinstance(replies[-1], Exception):
            raise failed("ACL LIST", replies[-1])
        parsed = {u.name: u for u in map(_parse_acl_line, map(_text, replies[-1]))}
        return {u.name: replace(u, rules=parsed[probe].rules) for u, probe, _ in probes}
    except (redis.RedisError, OSError) as exc:
        raise failed("probing ACL rules", exc) from None
    finally:
        with contextlib.suppress(redis.RedisError, OSError):
            client.execute_command("ACL", "DELUSER", *(probe for _, probe, _ in probes))
