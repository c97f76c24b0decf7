"""The connection of a PostgreSQL-only plan opened while its files wait: when the server has
not answered within a moment, the files are read meanwhile, so a mistake in them is said at
once, not after the connect timeout (a server that takes the connection and never answers,
such as a tunnel whose far end is gone, held a YAML error back for ten seconds).

Owns: `open_or_read`.
Must not: change what a plan reads or in which order when the server answers at once (the
catalog is then read while the files are parsed, tree_plan.py), or leave a connection open:
one that arrives after the caller gave up is closed by the thread that opened it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import Any, TypeVar

T = TypeVar("T")
D = TypeVar("D")

GRACE_S = 0.3  # a local server answers in a few milliseconds, a distant one in ~0.1 s


def open_or_read(
    stack: ExitStack,
    opening: Callable[[], AbstractContextManager[T]],
    read: Callable[[], D],
    *,
    grace_s: float = GRACE_S,
) -> tuple[T, D | None]:
    """`opening()` entered (its exit pushed on `stack`), and the files' `read()` when the
    connection took longer than `grace_s` (else None: the caller reads them alongside the
    catalog). An error of `read()` is raised at once, the connection still being opened
    left to close itself; an error of `opening()` is raised as itself."""
    lock = threading.Lock()
    done = threading.Event()
    box: dict[str, Any] = {}
    gave_up = False

    def connect() -> None:
        try:
            cm = opening()
            value = cm.__enter__()
            result: tuple[Any, Any, BaseException | None] = (cm, value, None)
        except BaseException as exc:  # handed to the caller's thread, raised there
            result = (None, None, exc)
        with lock:
            if not gave_up:
                box["result"] = result
                done.set()
                return
        if result[0] is not None:  # nobody will use it: close it here
            result[0].__exit__(None, None, None)

    def give_up() -> None:
        nonlocal gave_up
        with lock:
            gave_up = True
            taken = box.pop("result", None)
        if taken is not None and taken[0] is not None:
            taken[0].__exit__(None, None, None)

    threading.Thread(target=connect, name="reconciler-connect", daemon=True).start()
    files: D | None = None
    try:
        if not done.wait(grace_s):
            files = read()  # a mistake in the files is raised now, not after the timeout
        done.wait()
    except BaseException:
        give_up()
        raise
    cm, value, error = box["result"]
    if error is not None:
        raise error
    stack.push(cm.__exit__)
    return value, files
