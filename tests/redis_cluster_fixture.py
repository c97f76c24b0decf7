"""Pytest plugin: one local Redis Cluster (3 primaries, 1 replica each) per test session.

Registered from conftest with `pytest_plugins = ["tests.redis_cluster_fixture"]`, or for one run
with `-p tests.redis_cluster_fixture`. `redis_cluster` is the LocalCluster itself (roles, failover,
flushall); `redis_cluster_url` is its seed URL for `redis.RedisCluster.from_url`. Tests share the
cluster's keyspace and may leave roles switched after a failover: ask `primaries()`, never assume.

A cluster that cannot start fails the tests that need it with the reason (a missing redis-server
or redis-cli says to run `make setup`); nothing is skipped.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.dev.cluster import LocalCluster, start_redis_cluster
from reconciler.errors import ReconcilerError


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    # Not tmp_path_factory: its basetemp is kept after the run, and a cluster's node
    # directories are only worth anything while it runs.
    workdir = Path(tempfile.mkdtemp(prefix="reconciler-cluster-"))
    try:
        cluster = start_redis_cluster(workdir)
    except ReconcilerError as exc:
        failure = "\n".join(filter(None, (exc.summary, exc.detail)))
    else:
        failure = None
    if failure is not None:  # outside `except`: the reason alone, not a chained traceback
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.fail(failure, pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def redis_cluster_url(redis_cluster: LocalCluster) -> str:
    """The session cluster's seed URL (redis://127.0.0.1:<port>), shared by all tests."""
    return redis_cluster.url
