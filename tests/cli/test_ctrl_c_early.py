"""Ctrl-C while the command line is still importing itself (the first tenth of a second or
more of every run): exit 130 and the sentence that says no database was changed, as at any
later moment of a command that changes nothing — never a traceback.
(During a plan's catalog read: test_ctrl_c_plan.py; during an apply: tests/safety.)"""

from __future__ import annotations

import importlib.abc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.errors import NOTHING_RAN_INTERRUPTED

ROOT = Path(__file__).resolve().parents[2]


class _CtrlCOnImport(importlib.abc.MetaPathFinder):
    """Raises KeyboardInterrupt when `name` is imported, as a Ctrl-C during it would."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.name:
            raise KeyboardInterrupt
        return None


class _CtrlCInSetName(importlib.abc.MetaPathFinder):
    """A Ctrl-C while a class is made on importing `name`, inside a field's __set_name__ (as
    in a dataclass's fields): Python 3.11 raises it as a RuntimeError caused by the interrupt."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None

        class Field:
            def __set_name__(self, owner, name):
                raise KeyboardInterrupt

        type("Made", (), {"field": Field()})
        raise AssertionError("the interrupt was not raised")


@pytest.mark.parametrize("finder", [_CtrlCOnImport, _CtrlCInSetName])
def test_ctrl_c_while_a_class_is_made_is_the_sentence_and_130(
    finder: type, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from reconciler.__main__ import entry

    def _exit(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.delitem(sys.modules, "reconciler.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [finder("reconciler.cli"), *sys.meta_path])
    monkeypatch.setattr(os, "_exit", _exit)
    with pytest.raises(SystemExit) as exc:
        entry()
    assert exc.value.code == 130
    assert capsys.readouterr().err.strip() == NOTHING_RAN_INTERRUPTED


def test_another_runtime_error_is_not_taken_for_a_ctrl_c(monkeypatch: pytest.MonkeyPatch):
    from reconciler.__main__ import entry

    class Broken(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path=None, target=None):
            if fullname == "reconciler.cli":
                raise RuntimeError("a bug") from ValueError("its cause")
            return None

    monkeypatch.delitem(sys.modules, "reconciler.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Broken(), *sys.meta_path])
    with pytest.raises(RuntimeError, match="a bug"):
        entry()


def test_a_real_ctrl_c_at_any_moment_of_start_up_gets_no_traceback(tmp_path: Path):
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "users.yaml").write_text(
        "table: users\ncolumns:\n  - {name: id, type: bigint}\n", encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "reconciler", "validate", "--schemas", "schemas"]
    interrupted = 0
    for delay in (0.02, 0.04, 0.06, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3):
        proc = subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        if ", in entry" not in err and NOTHING_RAN_INTERRUPTED not in err and proc.returncode:
            # before entry() started (interpreter start-up, `import site`, runpy compiling
            # __main__.py on a loaded machine): Python's own handling, no program's to change
            continue
        # from entry() on: never a traceback, and never -2 after the sentence (CPython kills
        # itself so when the interrupt landed in exec()'d code): CI sees that as a crash
        assert "Traceback" not in err, (delay, err)
        assert proc.returncode in (0, 1, 130), (delay, proc.returncode, err)
        if proc.returncode == 130:
            interrupted += 1
            assert NOTHING_RAN_INTERRUPTED in err, (delay, err)
    assert interrupted, "no run was interrupted: every one had finished before its Ctrl-C"
