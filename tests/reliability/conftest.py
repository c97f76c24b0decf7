"""Shared by the attack tests: how many trials to run, and a record of what each survived.

`make test` runs every scenario a few times; `make reliability` sets RELIABILITY=full for the
trial counts of docs/reliability.md and, at the end of the session, writes what was tried and
what came of it to .reconciler/reliability/results.json (tests/reliability/report.py turns that
into the table of docs/reliability.md). On pytest-xdist workers (`make test`), each worker hands
its outcomes to the controller, which adds them up and writes that file once (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / ".reconciler" / "reliability" / "results.json"
FULL = os.environ.get("RELIABILITY") == "full"
WORKER_OUTPUT_KEY = "reliability_outcomes"


def trials(quick: int, full: int) -> int:
    """How many times to run a scenario: `quick` in make test, `full` in make reliability."""
    return full if FULL else quick


class Outcomes:
    """Per scenario: the number of trials and how each ended (a label → count)."""

    def __init__(self) -> None:
        self.scenarios: dict[str, dict[str, object]] = {}

    def add(self, scenario: str, outcome: str, *, family: str) -> None:
        entry = self.scenarios.setdefault(
            scenario, {"family": family, "trials": 0, "outcomes": Counter()}
        )
        entry["trials"] = int(entry["trials"]) + 1  # type: ignore[call-overload]
        entry["outcomes"][outcome] += 1  # type: ignore[index]


def scenarios_of(record: Outcomes) -> dict[str, dict[str, Any]]:
    """The record as JSON-able data: per scenario its family, trials and outcome counts."""
    return {
        name: {**entry, "outcomes": dict(entry["outcomes"])}  # type: ignore[call-overload]
        for name, entry in record.scenarios.items()
    }


def add_up(total: dict[str, dict[str, Any]], part: dict[str, dict[str, Any]]) -> None:
    """Add `part` (scenarios_of one test process) to `total`: trials and outcome counts are
    summed, since the tests of one scenario may run in different processes (pytest -n)."""
    for name, entry in part.items():
        into = total.setdefault(name, {"family": entry["family"], "trials": 0, "outcomes": {}})
        into["trials"] += entry["trials"]
        for outcome, count in entry["outcomes"].items():
            into["outcomes"][outcome] = into["outcomes"].get(outcome, 0) + count


def save(scenarios: dict[str, dict[str, Any]]) -> None:
    """Write the scenarios of a finished run to RESULTS."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "full" if FULL else "quick",
        "scenarios": scenarios,
    }
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if previous.get("mode") == doc["mode"]:  # a partial run (-k) keeps the other scenarios
        doc["scenarios"] = {**previous.get("scenarios", {}), **doc["scenarios"]}
    RESULTS.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def outcomes(request: pytest.FixtureRequest) -> Iterator[Outcomes]:
    record = Outcomes()
    yield record
    if not record.scenarios:
        return
    worker_output = getattr(request.config, "workeroutput", None)
    if worker_output is not None:
        # A pytest-xdist worker: the controller adds up every worker's scenarios and writes
        # them once (tests/conftest.py), so that no worker overwrites another's trials.
        worker_output[WORKER_OUTPUT_KEY] = json.dumps(scenarios_of(record))
        return
    save(scenarios_of(record))
