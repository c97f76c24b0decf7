"""Run the CLI in-process, as a user would, capturing exit code and output."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from reconciler.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_cli(*args: str, cwd: Path | None = None) -> Result:
    """One command, as a process of its own would run it: what it sets in the environment
    (`--env` sets RECONCILER_ENV, `--no-color` NO_COLOR) is undone afterwards, so it does not
    reach the tests that run later in the session."""
    out, err = io.StringIO(), io.StringIO()
    old_argv, old_cwd, old_env = sys.argv, os.getcwd(), dict(os.environ)
    sys.argv = ["reconciler", *args]
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
        _restore_environ(old_env)
    return Result(code, out.getvalue(), err.getvalue())


def _restore_environ(saved: dict[str, str]) -> None:
    for key in set(os.environ) - set(saved):
        del os.environ[key]
    for key, value in saved.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


def write_yaml(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def saved_plan(*argv: str, plans: Path, cwd: Path) -> tuple[dict, Path]:
    """`reconciler plan *argv --out plans --json`, which must succeed: its JSON document and
    the .plan.json file it wrote."""
    r = run_cli("plan", *argv, "--out", str(plans), "--json", cwd=cwd)
    assert r.code == 0, r.text
    data = json.loads(r.out)
    return data, plans / f"{data['version']}_{data['slug']}.plan.json"
