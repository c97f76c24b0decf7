"""`python -m reconciler` and the `reconciler` console script.

The command line's imports take a tenth of a second or more; a Ctrl-C during them, or after
the command has finished, gets the same sentence and exit code as one during a command that
touches no database, not a traceback. This module imports nothing else before entry() runs,
so that window opens a few milliseconds after the interpreter starts.
"""

from __future__ import annotations

import gc
import os
import sys


def entry() -> None:
    _closed_streams_to_null()
    try:
        # A plan's catalog is read by a process of its own from here on, while this one
        # builds the command line (pipeline/prefetch.py says when the plan takes it).
        if sys.argv[1:2] == ["plan"]:
            from reconciler.pipeline import prefetch  # deferred: as the command line, below

            prefetch.start(sys.argv[1:])
        # The methods that dataclasses generate are compiled once, as bytecode is (methodcache).
        from reconciler import methodcache  # deferred: as the command line, below

        methodcache.install()
        # Importing the command line makes ~100,000 objects that stay for the whole run: the
        # collector would walk them again and again; frozen, it never looks at them again.
        gc.disable()
        from reconciler.cli import run  # deferred: a Ctrl-C during these imports is caught here

        gc.freeze()
        gc.enable()
        run()
    except KeyboardInterrupt:
        _interrupted()
    except RuntimeError as exc:
        # CPython 3.11 wraps what a __set_name__ raises in a RuntimeError: a Ctrl-C while a
        # dataclass is made (during the imports, its fields' __set_name__) is still a Ctrl-C.
        if not isinstance(exc.__cause__, KeyboardInterrupt):
            raise
        _interrupted()


def _closed_streams_to_null() -> None:
    """A command started with its stdout or stderr closed (`>&-`) writes what it would have
    printed nowhere, instead of failing on the missing stream (Python leaves it None). The
    null device takes the free descriptor, so no file or connection opened later gets 1 or 2."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def _interrupted() -> None:
    # Commands that change a database answer a Ctrl-C themselves (what became of the run); one
    # reaching this far came before or after every command's own handling.
    from reconciler.errors import NOTHING_RAN_INTERRUPTED, ExitCode  # deferred: as in entry()

    print(NOTHING_RAN_INTERRUPTED, file=sys.stderr, flush=True)
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(ExitCode.INTERRUPTED)  # a profiler or coverage writes its results at exit
    # Not sys.exit: an interrupt that landed in code run by exec() (dataclasses, typing and
    # namedtuple make their methods so) leaves CPython 3.11 set to kill itself with SIGINT at
    # exit, whatever the exit code, even once the interrupt was handled.
    os._exit(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    entry()
