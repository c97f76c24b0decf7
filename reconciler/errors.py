"""Every exit code and the one exception root.

Only the CLI turns a ReconcilerError into an exit code and a printed sentence; library code
raises, never exits. A `source` ("file.yaml:12") is attached where the error comes from a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # success, or nothing to do
    ERROR = 1  # any failure: invalid input, refused apply, lost connection, lint errors
    CHANGES = 2  # plan --detailed-exitcode found changes; drift found drift
    INTERRUPTED = 130  # Ctrl-C (SIGINT): the sentence says what became of the run


# A Ctrl-C outside an apply's or a rollback's execution (those say what became of their run).
NOTHING_RAN_INTERRUPTED = (
    "Interrupted; no apply or rollback was running, so no database was changed."
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding inside a multi-problem error (validation collects all before raising)."""

    message: str
    source: str | None = None  # "path/to/file.yaml:12"

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class ReconcilerError(Exception):
    """A failure a user can act on: one summary sentence, optional detail and source."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(
        self,
        summary: str,
        *,
        detail: str | None = None,
        source: str | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        super().__init__(summary)
        self.summary = summary
        self.detail = detail
        self.source = source
        self.problems = list(problems or [])

    def __str__(self) -> str:
        return f"{self.source}: {self.summary}" if self.source else self.summary


class InputError(ReconcilerError):
    """The desired state (YAML, options, plan file) is malformed or invalid."""


class ConnectionFailed(ReconcilerError):
    """A server could not be reached or went away."""


class LockHeld(ReconcilerError):
    """Another run holds the lock."""


class StateDenied(ReconcilerError):
    """The role may not read or set up the recorded state (schema reconciler)."""


class StalePlan(ReconcilerError):
    """The live state moved since the plan was made, or the plan files were edited."""


class Refused(ReconcilerError):
    """The operation is understood but refused by a safety rule (e.g. destructive change)."""


class NotSupported(ReconcilerError):
    """A transition Reconciler cannot perform safely; it says so instead of guessing SQL."""


class Interrupted(ReconcilerError):
    """Ctrl-C stopped a run; the summary says what the state shows became of it."""

    exit_code = ExitCode.INTERRUPTED
