"""Guarded Redis commands, the ones both an apply and the journal's put-back send.

Owns: the Lua scripts that act on a key only while it still holds what the run left there
(`GUARDED_DEL`: delete while it dumps to a value; `GUARDED_RESTORE_VALUE`: restore while it is
missing; `PUT_BACK_EXPIRY`: put an expiry back while the key carries the one the run set), how
scripts and keyless commands go out on one server or on a Redis Cluster (`ScriptSender`, `nodes`),
and substituting `${ENV}` password references at the last moment (`substitute`).

Why here, below apply: the journal (redis_journal.py) must put back an interrupted run from any
command that opens Redis — plan and drift too, through pipeline/ — and pipeline/ is below apply/.
So what putting back sends lives with the journal, given a client and commands, knowing nothing
of plans; apply/redis/executor.py runs a plan's steps with the same scripts and sender.

Must not: know plans or steps (apply/redis does), or send a key's change unguarded.
"""

from __future__ import annotations

import os
import re
from typing import Any

import redis

from reconciler.errors import InputError
from reconciler.introspect.redis.cluster import is_cluster

__all__ = [
    "GUARDED_DEL",
    "GUARDED_RESTORE_VALUE",
    "PUT_BACK_EXPIRY",
    "ScriptSender",
    "nodes",
    "substitute",
]

GUARDED_DEL = """
if redis.call('DUMP', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return -3
"""
GUARDED_RESTORE_VALUE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -3 end
return redis.call('RESTORE', KEYS[1], ARGV[1], ARGV[2], 'ABSTTL')
"""
# Put an expiry back only while the key still carries the one the run set, and the type it had
# then: a key written anew as other data is not the run's to touch. '' (and a journal written
# before types were recorded) leaves the type unchecked.
PUT_BACK_EXPIRY = """
if redis.call('PEXPIRETIME', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
if (ARGV[3] or '') ~= '' and redis.call('TYPE', KEYS[1])['ok'] ~= ARGV[3] then return 0 end
if ARGV[2] == '-1' then redis.call('PERSIST', KEYS[1])
else redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return 1
"""
_ENV_REF = re.compile(rb"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute(arg: bytes) -> bytes:
    """`arg` with every `${NAME}` replaced by that environment variable (an ACL password)."""

    def value(m: re.Match[bytes]) -> bytes:
        name = m.group(1).decode()
        if name not in os.environ:
            raise InputError(
                f"The environment variable {name} is not set; it holds an ACL user's password."
            )
        return os.environ[name].encode()

    return _ENV_REF.sub(value, arg)


def nodes(client: Any) -> list[Any]:
    """Every node (primaries and replicas) of a cluster, or the one server: where server-wide
    settings (CONFIG, ACL users) are set."""
    if not is_cluster(client):
        return [client]
    return [client.get_redis_connection(node) for node in client.get_nodes()]


class ScriptSender:
    """How a batch goes out: on one server, scripts by EVALSHA (loaded once per pipeline); on a
    Redis Cluster, by EVAL, since a script loaded on one primary is unknown to the replica that
    a failover promotes, and a key's command may be redirected (MOVED/ASK) to another node. The
    cluster pipeline groups the keyed commands per node and follows the redirections; commands
    without a key (CONFIG SET, ACL SETUSER/DELUSER) are sent to every node, one by one."""

    def __init__(self, client: redis.Redis) -> None:
        self.cluster = is_cluster(client)
        self.client = client
        self.scripts: dict[str, Any] = {}

    def script(self, pipe: Any, body: str, key: bytes, *args: bytes) -> None:
        if self.cluster:
            pipe.execute_command("EVAL", body, 1, key, *args)
            return
        if body not in self.scripts:
            self.scripts[body] = self.client.register_script(body)
        self.scripts[body](keys=[key], args=list(args), client=pipe)

    def run(self, pipe: Any, everywhere: list[tuple[int, list[bytes]]], size: int) -> list[Any]:
        """The replies of a batch, in the order of its steps (an error is a value)."""
        keyed = iter(pipe.execute(raise_on_error=False) if len(pipe) else [])
        spread: dict[int, Any] = {}
        for i, (name, *args) in everywhere:
            try:  # redis-py's cluster routing reads the command name as text
                spread[i] = self.client.execute_command(
                    name.decode(), *args, target_nodes=self.client.get_nodes()
                )
            except redis.ResponseError as exc:
                spread[i] = exc
        return [spread[i] if i in spread else next(keyed) for i in range(size)]
