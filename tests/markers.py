"""Pytest plugin: the markers every test gets from where it is and what it uses.

Registered from conftest with `pytest_plugins`. Two kinds of marker, both listed in
pyproject.toml ([tool.pytest.ini_options] markers; `--strict-markers` refuses any other):

- the stage: the folder below tests/ the module sits in (`desired`, `plan`, `kinds`, `safety`,
  …), so `-m plan` runs tests/plan/ and `-m "desired or project"` the two folders;
- `servers`: the test uses a PostgreSQL or Redis server, through one of SERVER_FIXTURES
  (directly or through other fixtures), or is marked so by hand because it starts one itself
  (a subprocess, a fixture parameter that asks for a server on the fly). `make test-fast` runs
  `-m "not servers"`: no server is started then, the session fixtures being set up only when a
  test that is run asks for them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent

# The fixtures that start a server or hand one out. `redis_url` and `whole_redis` reach theirs
# through request.getfixturevalue, which item.fixturenames does not show, so they are named
# here as well as the servers behind them; `server_dir` is where a test puts a server of its own.
SERVER_FIXTURES = frozenset(
    {
        "server_dir",
        "pg_server",
        "redis_server",
        "private_redis",
        "redis_cluster",
        "redis_url",
        "whole_redis",
    }
)


def stage_of(path: Path) -> str | None:
    """The stage folder a test module sits in (`tests/<stage>/test_x.py`), None at the top."""
    try:
        parts = path.resolve().relative_to(TESTS_DIR).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 else None


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by the markers added here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if stage := stage_of(item.path):
            # An unregistered stage fails here (--strict-markers): register new folders.
            item.add_marker(getattr(pytest.mark, stage))
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)
