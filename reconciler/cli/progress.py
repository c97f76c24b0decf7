"""What a person at a terminal sees while a command works: a spinner while a plan reads and
compares, a progress line for a Redis scan, a bar of statements during an apply. Never in logs,
CI (CI set), with NO_COLOR, or without a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from reconciler.cli.root import err_console, plain


class StatementBar:
    """`apply`'s progress on a terminal: statements run of the plan's, started with the first
    (after the plan was shown and confirmed), gone when the run ends."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("applying"),
                BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,} statements"),
                TimeElapsedColumn(),
                console=err_console(),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("apply", total=total)
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def interactive() -> bool:
    """Progress displays only for a person at a terminal: never in logs, CI or NO_COLOR."""
    return sys.stderr.isatty() and not os.environ.get("CI") and not plain()


@contextmanager
def reading(show: bool) -> Iterator[None]:
    """A spinner while the live database is read and compared, on a terminal only (a Redis
    scan has its own progress line instead)."""
    if not (show and interactive()):
        yield
        return
    with err_console().status("reading the live database and comparing…"):
        yield


@contextmanager
def scan_progress(redis: bool = True) -> Iterator[Callable[[int], None] | None]:
    """A rich progress line for long Redis scans, only on a terminal (never in logs or CI),
    and only when Redis is a target."""
    if not (redis and interactive()):
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("scanning Redis: {task.completed:,} keys"),
        TimeElapsedColumn(),
        console=err_console(),
        transient=True,
    ) as bar:
        task = bar.add_task("scan", total=None)

        def update(scanned: int) -> None:
            bar.update(task, completed=scanned)

        update.stop = bar.stop  # type: ignore[attr-defined]  # before asking for confirmation
        yield update
