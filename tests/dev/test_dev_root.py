"""The dev servers belong to the project: found upwards from any subfolder, as git finds .git."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from reconciler import dev
from tests.helpers import run_cli


@pytest.fixture
def project(server_dir: Path) -> Iterator[Path]:
    """A fresh `reconciler init` project the PostgreSQL OS user can enter; its servers are
    stopped afterwards whatever the test left."""
    root = server_dir / f"devroot-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    r = run_cli("init", cwd=root)
    assert r.code == 0, r.text
    yield root
    dev.dev_down(root)


def test_dev_commands_and_default_targets_work_from_a_subfolder(project: Path) -> None:
    deep = project / "schemas" / "nested"
    deep.mkdir(parents=True)

    up = run_cli("dev", "up", cwd=deep)
    assert up.code == 0, up.text
    assert (project / ".reconciler" / "dev" / "state.json").is_file()
    assert not (deep / ".reconciler").exists()
    assert not (project / "schemas" / ".reconciler").exists()

    url = run_cli("dev", "url", "--pg", cwd=project / "schemas")
    assert url.code == 0, url.text
    pg_url = url.out.strip()
    with psycopg.connect(pg_url, connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert run_cli("dev", "status", cwd=deep).code == 0

    # A command that defaults to the dev servers (no --pg, no URL variables) finds them too.
    status = run_cli("lock", "status", cwd=deep)
    assert status.code == 0, status.text
    assert "No server given" not in status.err
    plan = run_cli("plan", cwd=project / "schemas")
    assert "No server given" not in plan.err, plan.text

    down = run_cli("dev", "down", cwd=deep)
    assert down.code == 0, down.text
    assert not (project / ".reconciler" / "dev").exists()


def test_outside_any_project_dev_up_stays_where_it_runs(server_dir: Path) -> None:
    here = server_dir / f"noproj-{uuid.uuid4().hex[:8]}"
    here.mkdir()
    assert dev.find_root(here) == here.resolve()
    (here / "reconciler.yaml").write_text("")
    sub = here / "a" / "b"
    sub.mkdir(parents=True)
    assert dev.find_root(sub) == here.resolve()
    # Servers already started in a subfolder (before dev up looked upwards) are still found.
    (here / "a" / ".reconciler" / "dev").mkdir(parents=True)
    assert dev.find_root(sub) == (here / "a").resolve()


def test_a_reconciler_folder_that_is_a_link_is_refused_and_nothing_behind_it_removed(
    tmp_path: Path,
) -> None:
    """A checkout may carry `.reconciler` as a link to somewhere else: `dev down` removes the dev
    folder with everything in it, so it would delete a `dev` folder there; `dev up` would put
    servers there. Each refuses in one sentence naming the link, and touches nothing."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "reconciler.yaml").write_text("")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "dev").mkdir(parents=True)
    (elsewhere / "dev" / "precious.txt").write_text("kept")
    (root / ".reconciler").symlink_to(elsewhere)
    for args in (("dev", "down"), ("dev", "up"), ("dev", "status")):
        r = run_cli(*args, cwd=root)
        assert r.code == 1, (args, r.text)
        assert ".reconciler is a link" in r.text, r.text
        assert (elsewhere / "dev" / "precious.txt").read_text() == "kept"
        assert sorted(p.name for p in (elsewhere / "dev").iterdir()) == ["precious.txt"]
    assert sorted(p.name for p in elsewhere.iterdir()) == ["dev"]
