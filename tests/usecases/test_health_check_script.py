"""scripts/health_check.py, the seed's `python …/health_check.py --url redis://…` entry point:
the same report and exit codes as `reconciler redis health`, with a plain python."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from reconciler import dev
from tests.helpers import run_cli

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "health_check.py"
VENV = Path(sys.prefix)  # the .venv the tests run in


def _run(python: str, script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [python, str(script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def test_the_script_reports_like_redis_health(private_redis: dev.RedisServer, tmp_path) -> None:
    url = private_redis.url()
    r = _run(sys.executable, SCRIPT, "--url", url, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["healthy"] is True
    same = run_cli("redis", "health", "--url", url, "--json", cwd=tmp_path)
    assert same.code == 0 and set(json.loads(same.out)) == set(report)

    strict = _run(sys.executable, SCRIPT, "--url", url, "--max-latency-ms", "0", cwd=tmp_path)
    assert strict.returncode == 1  # unhealthy: the same exit code as the command
    assert "unhealthy" in strict.stdout


def test_the_script_says_when_the_server_is_unreachable(tmp_path: Path) -> None:
    r = _run(sys.executable, SCRIPT, "--url", "redis://127.0.0.1:1/0", cwd=tmp_path)
    assert r.returncode == 1
    assert "Cannot connect to Redis at redis://127.0.0.1:1/0" in r.stdout, r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    same = run_cli("redis", "health", "--url", "redis://127.0.0.1:1/0", cwd=tmp_path)
    assert (same.code, same.out) == (r.returncode, r.stdout)


def test_a_copy_at_the_seed_path_finds_the_venv_of_its_project(
    private_redis: dev.RedisServer, tmp_path: Path
) -> None:
    # A project laid out as the seed says, with its .venv at the top; a python without
    # site-packages (-S) stands for a system python that lacks the package.
    project = tmp_path / "project"
    seed = project / "db" / "engines" / "redis" / "scripts" / "health_check.py"
    seed.parent.mkdir(parents=True)
    shutil.copy(SCRIPT, seed)
    (project / ".venv").symlink_to(VENV)
    r = subprocess.run(
        [sys.executable, "-S", str(seed), "--url", private_redis.url(), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=project,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["healthy"] is True


def test_without_the_package_it_says_so_in_one_sentence(tmp_path: Path) -> None:
    lone = tmp_path / "health_check.py"
    shutil.copy(SCRIPT, lone)
    r = subprocess.run(
        [sys.executable, "-S", str(lone), "--url", "redis://127.0.0.1:6379"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("health_check.py: the reconciler package cannot be imported by ")
    assert "no .venv with it was found at or above" in lines[0]
