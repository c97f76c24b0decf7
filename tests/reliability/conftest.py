"""Shared by the attack tests: how many trials to run, and a record of what each survived.

`make test` runs every scenario a few times; `make reliability` sets RELIABILITY=full for the
trial counts of docs/reliability.md and, at the end of the session, writes what was tried and
what came of it to .reconciler/reliability/results.json (tests/reliability/report.py turns that
into the table of docs/reliability.md).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / ".reconciler" / "reliability" / "results.json"
FULL = os.environ.get("RELIABILITY") == "full"


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


@pytest.fixture(scope="session")
def outcomes() -> Iterator[Outcomes]:
    record = Outcomes()
    yield record
    if not record.scenarios:
        return
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "full" if FULL else "quick",
        "scenarios": {
            name: {**entry, "outcomes": dict(entry["outcomes"])}  # type: ignore[call-overload]
            for name, entry in record.scenarios.items()
        },
    }
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if previous.get("mode") == doc["mode"]:  # a partial run (-k) keeps the other scenarios
        doc["scenarios"] = {**previous.get("scenarios", {}), **doc["scenarios"]}
    RESULTS.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
