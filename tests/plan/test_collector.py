"""pipeline/collector.py: the garbage collector is paused inside the block and as it was after
it, whatever happened inside; what the block made is frozen only for the command line, whose
process ends after one command (a library caller's objects are left to the collector)."""

from __future__ import annotations

import gc

import pytest

from reconciler.pipeline import collector
from reconciler.pipeline.collector import collector_paused
from tests.helpers import run_cli


@pytest.mark.parametrize("was_on", [True, False])
def test_paused_inside_and_as_it_was_after_even_on_an_error(was_on: bool):
    (gc.enable if was_on else gc.disable)()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is was_on
        with pytest.raises(ValueError), collector_paused():
            raise ValueError("inside")
        assert gc.isenabled() is was_on
    finally:
        gc.enable()


def test_frozen_after_only_when_the_command_line_asks():
    gc.unfreeze()
    try:
        with collector_paused():
            made = [{"n": i} for i in range(1000)]
        assert gc.get_freeze_count() == 0  # a library caller: left to the collector
        collector.freeze_after["on"] = True
        with collector_paused():
            made += [{"n": i} for i in range(1000)]
        assert gc.get_freeze_count() >= 1000
        assert made
    finally:
        collector.freeze_after["on"] = False
        gc.unfreeze()


def test_a_command_line_run_leaves_nothing_set_for_the_next_caller(tmp_path):
    (tmp_path / "users.yaml").write_text("table: users\ncolumns:\n  - {name: id, type: bigint}\n")
    gc.unfreeze()
    try:
        run_cli("validate", "--schemas", str(tmp_path))
        assert collector.freeze_after["on"] is False
        assert gc.isenabled()
    finally:
        gc.unfreeze()
