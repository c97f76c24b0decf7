"""What a run that ended without telling its outcome is said to have done, by direction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.apply.outcome import Outcome
from reconciler.state.base import Attempt

STARTED = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("direction", "committed", "said"),
    [
        ("up", False, "The apply of version 20261207073000 started 2026-12-07 07:30:00 UTC was "
         "interrupted before it committed: nothing of it was applied."),
        ("down", False, "The rollback of version 20261207073000 started 2026-12-07 07:30:00 UTC "
         "was interrupted before it committed: nothing of it was reverted."),
        ("up", True, "committed before it was interrupted: 20261207073000 is applied."),
        ("down", True, "committed before it was interrupted: 20261207073000 is rolled back."),
    ],
)  # fmt: skip
def test_an_interrupted_run_is_said_in_the_words_of_its_direction(
    direction: str, committed: bool, said: str
) -> None:
    attempt = Attempt(
        id=1,
        version="20261207073000",
        direction=direction,  # type: ignore[arg-type]
        status="interrupted",
        started_at=STARTED,
    )
    assert Outcome(attempt, committed, None).sentence().endswith(said)
