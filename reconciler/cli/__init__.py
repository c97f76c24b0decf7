"""The command line: a thin typer app. Commands parse, call reconciler.api, render.

The app and its consoles live in root.py; each command module registers its commands on it and
is imported here, so importing this package gives the whole command line (main, run).

Errors are converted to sentences and exit codes here and only here (errors.ExitCode);
tracebacks are shown only with --debug.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import sys

import typer
from rich.markup import escape

from reconciler import methodcache
from reconciler.cli import (  # noqa: F401  (each registers its commands on the app)
    commands,
    deploy_cmds,
    dev_cmds,
    project_cmds,
    redis_cmds,
    rollback_cmds,
    state_cmds,
    trash_cmds,
)
from reconciler.cli.root import (
    _debug,
    _plain,
    app,
    app_for,
    err_console,
    plain_help,
    report_error,
)
from reconciler.connect import scrub
from reconciler.connect.reason import libpq_reason
from reconciler.errors import NOTHING_RAN_INTERRUPTED, ExitCode, ReconcilerError
from reconciler.pipeline import collector
from reconciler.project import config


def load_commands() -> typer.Typer:
    """The app with every command registered (they are, once this package is imported)."""
    return app


class _StderrLines(logging.Handler):
    """Each record as a bare line on the stderr of the moment (tests redirect it)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stderr)


def main() -> None:
    # A run builds tens of thousands of small objects (catalog rows, model values) and frees
    # almost nothing cyclic until it exits: collecting every 700 allocations spent a third of
    # a large plan's time walking live objects. Cycles are still collected, just less often.
    gc.set_threshold(100_000, 50, 100)
    collector.freeze_after["on"] = True  # and what a plan builds is frozen after (collector.py)
    # psycopg logs, as warnings, the cleanup it could not do on a connection that died ("error
    # ignored terminating <Pipeline>…"): the error that follows says it once, in a sentence.
    # --debug shows them again (_root).
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    # The library's notices and warnings (an interrupted run put back, a lock lease lost) are
    # logged; on the command line they are lines on stderr.
    tool_log = logging.getLogger("reconciler")
    if not any(isinstance(h, _StderrLines) for h in tool_log.handlers):
        tool_log.addHandler(_StderrLines(logging.WARNING))
    # Text that is not valid Unicode (a Redis key's name that is not UTF-8) is printed escaped
    # (\udcff), whatever the locale's encoding, never a UnicodeEncodeError after the work.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    _debug_first(sys.argv)
    load_commands()
    plain_help()  # `reconciler --help` is printed before the root options are read
    try:
        _run_app()
    finally:  # this run's options hold for it alone (in-process callers run main() again)
        _plain["on"] = _debug["on"] = collector.freeze_after["on"] = False
        config.choose_environment(None)


def _debug_first(argv: list[str]) -> None:
    """`reconciler plan … --debug` read as `reconciler --debug plan …` (in place): --debug is
    an option of the command line as a whole, wherever it is written (not after `--`)."""
    args = argv[1:]
    end = args.index("--") if "--" in args else len(args)
    if "--debug" in args[1:end]:
        argv[1:] = ["--debug", *(a for a in args[:end] if a != "--debug"), *args[end:]]


def _run_app() -> None:
    try:
        rc = app_for(sys.argv[1:])(standalone_mode=False)
        if rc == ExitCode.INTERRUPTED:  # typer's own answer to a Ctrl-C: say it, as below
            _interrupted()
        sys.exit(rc if isinstance(rc, int) else 0)
    except ReconcilerError as exc:
        if _debug["on"]:
            raise
        report_error(exc)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort as exc:
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            _interrupted()
        err_console().print("Aborted.")
        sys.exit(ExitCode.ERROR)
    except KeyboardInterrupt:
        _interrupted()
    except OSError as exc:  # a file or folder the command could not read or write
        if _debug["on"]:
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        err_console().print(
            f"[bold red]Error:[/] {escape(str(exc.strerror or exc))}{escape(where)}."
        )
        sys.exit(ExitCode.ERROR)
    except Exception as exc:  # usage errors (click's, vendored or not) and anything unforeseen
        psycopg = sys.modules.get("psycopg")  # loaded only when Postgres was a target
        if psycopg is not None and isinstance(exc, psycopg.Error) and not _debug["on"]:
            msg = scrub(libpq_reason(str(exc), type(exc).__name__))  # causes kept, not hints
            err_console().print(f"[bold red]Error:[/] PostgreSQL: {escape(msg)}")
            sys.exit(ExitCode.ERROR)
        if callable(getattr(exc, "show", None)) and hasattr(exc, "exit_code"):
            exc.show()  # "Usage: … Error: No such option" — exit 1: 2 means "changes present"
            sys.exit(ExitCode.ERROR)
        if _debug["on"]:
            raise
        if isinstance(exc, MemoryError):  # its message is empty
            err_console().print(
                "[bold red]Error:[/] reconciler ran out of memory (the process's limit, "
                "`ulimit -v`, or the machine's) (run with --debug for the traceback)."
            )
            sys.exit(ExitCode.ERROR)
        err_console().print(
            f"[bold red]Error:[/] unexpected {type(exc).__name__}: {escape(str(exc))} "
            "(run with --debug for the traceback)"
        )
        sys.exit(ExitCode.ERROR)


def _interrupted() -> None:
    # Ctrl-C outside an apply or rollback's execution (those say what became of their run
    # themselves, checked against the state): nothing had been changed yet.
    err_console().print(NOTHING_RAN_INTERRUPTED)
    sys.exit(ExitCode.INTERRUPTED)


def run() -> None:
    """The console script: main(), then leave without tearing the interpreter down.

    Once the command has finished, every connection is closed and every file written, so the
    only work left at exit is freeing each object one by one, which for a thousand-table plan
    costs more than a tenth of a second. Output streams and log handlers are flushed first.
    In-process callers (tests) use main(), which raises SystemExit as usual.
    """
    code: int | str | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    finally:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to say
                stream.flush()
    with contextlib.suppress(KeyboardInterrupt):  # the command is over: its outcome stands
        methodcache.save()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or coverage tool writes its results at interpreter exit
    if isinstance(code, str):  # sys.exit("message") prints it and exits 1, as Python would
        print(code, file=sys.stderr, flush=True)
        code = 1
    os._exit(code or 0)
