"""The undo of a run in several transactions that failed after part of it committed.

Owns: running the undo statements (the plan's down statements of what committed, or those a
caller chose instead) in the run's own transactions, and the one sentence that says the
outcome: undone, undone keeping something (a note), not undone because the run has no undo (a
rollback), or undone only in part because the undo failed too.
Must not: decide which statements undo what (apply/pg/executor.py's caller does), nor run a
statement other than through the run's transaction (executor.py's _Run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from reconciler.apply.pg.failures import Stopped
from reconciler.apply.pg.lock_table import batches
from reconciler.errors import ReconcilerError
from reconciler.model.words import counted
from reconciler.plan import Step


class Run(Protocol):
    """What of executor._Run the undo uses."""

    what: str

    def log(self, line: str) -> None: ...

    def transaction(self, steps: list[Step], before_commit: Callable[[], None]) -> None: ...


def _nothing() -> None:
    return None


def undo_committed(
    run: Run,
    steps: list[Step],
    cause: Exception,
    lock_budget: int | None,
    on_undone: Callable[[], None] | None = None,
    note: str = "",
) -> None:
    """Revert what committed before `cause`; always raises, saying the outcome (and `note`,
    what the undo kept). Without undo statements (a rollback) the committed part stays, and
    is said to."""
    if isinstance(cause, Stopped):  # where it failed; the rest is said below
        head = cause.head
    elif isinstance(cause, ReconcilerError):
        head = str(cause)
    else:
        head = f"The {run.what} failed: {cause}"
    if not steps:
        raise ReconcilerError(
            f"{head} The part committed before it stays.",
            detail="Its statements are re-runnable: run the same command again (with "
            "--force for a rollback) to finish it, or `reconciler plan` to see what is left.",
        ) from None
    run.log(f"undo what had committed: {counted(len(steps), 'statement')}")
    try:
        parts = batches(steps, lock_budget) if lock_budget is not None else [steps]
        for k, part in enumerate(parts, 1):
            run.transaction(part, (on_undone or _nothing) if k == len(parts) else _nothing)
    except ReconcilerError as again:
        # Where the undo failed and why, without what its own transaction kept ("nothing
        # was changed" is true of the undo's transaction, not of the run).
        why = getattr(again, "head", None) or str(again)
        why = why.removeprefix(f"The {run.what} failed ").rstrip(".")
        raise ReconcilerError(
            f"{head} Undoing what had committed failed too ({why}); the database is "
            "partly changed.",
            detail="Run `reconciler plan` to see what is left, then apply or roll back.",
        ) from None
    if note:
        raise ReconcilerError(f"{head} What had committed before it was undone; {note}.") from None
    raise ReconcilerError(
        f"{head} What had committed before it was undone, so nothing was changed."
    ) from None
