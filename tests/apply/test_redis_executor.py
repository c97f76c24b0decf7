"""A refused Redis step leaves nothing behind: the steps of its batch that ran (before and
after it) are reverted, and on a cluster so is the refused step on the nodes that took it."""

from __future__ import annotations

import pytest
import redis

from reconciler.apply.redis.executor import run_redis
from reconciler.errors import ReconcilerError
from reconciler.introspect.redis.server import connect_redis
from reconciler.plan import PlannedChange, Step
from tests.conftest import redis_from_url

ON_REDIS_CLUSTER = True


def _config_step(name: str, new: str, old: str) -> Step:
    up, down = f"CONFIG SET {name} {new}", f"CONFIG SET {name} {old}"
    change = PlannedChange(
        address=f"redis.config.{name}",
        action="change",
        symbol="~",
        kind="config",
        description=name,
        hazards=(),
        details=(),
        up=(up,),
        down=(down,),
    )
    return Step(change, up)


def _values(url: str, name: str) -> set[str]:
    with redis_from_url(url, decode_responses=True) as client:
        nodes = client.get_nodes() if isinstance(client, redis.RedisCluster) else [None]
        out = set()
        for node in nodes:
            one = client if node is None else client.get_redis_connection(node)
            out.add(one.config_get(name)[name])
        return out


def test_a_refused_step_reverts_the_steps_around_it(whole_redis):
    url = whole_redis.url()
    assert _values(url, "notify-keyspace-events") == {""}
    assert _values(url, "maxmemory-policy") == {"noeviction"}
    steps = [
        _config_step("maxmemory-policy", "allkeys-lru", "noeviction"),
        _config_step("maxmemory-samples", "not-a-number", "5"),  # refused by every node
        _config_step("notify-keyspace-events", "Ex", '""'),
    ]
    client = connect_redis(url, command="test")
    lines: list[str] = []
    try:
        with pytest.raises(
            ReconcilerError, match=r"refused a step of redis\.config\.maxmemory-samples"
        ):
            run_redis(client, steps, log=lines.append)
    finally:
        client.close()
    assert _values(url, "maxmemory-policy") == {"noeviction"}
    assert _values(url, "notify-keyspace-events") == {""}  # ran after the refusal: reverted
    assert _values(url, "maxmemory-samples") == {"5"}
