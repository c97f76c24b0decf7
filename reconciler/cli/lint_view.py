"""How lint findings are printed by `validate` and `plan`.

Owns: the text of lint findings on stderr: each finding with its file:line, a rule found many
times as one summary with its first findings (desired/lint.py digest), and the one line of
warnings `plan` shows.
Must not: decide severities or check anything (desired/lint.py does), or print on stdout.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from reconciler.cli.root import err_console
from reconciler.desired.findings import Finding, Summary, digest
from reconciler.model.words import counted


def print_lint(findings: list, *, every: bool = False) -> None:
    con = err_console()
    for f in digest(findings, every=every):
        style = "red" if f.severity == "error" else "yellow"
        if isinstance(f, Summary):
            con.print(
                f"[{style}]{f.severity}[/] {f.rule}: {counted(f.count, 'finding')}; "
                f"the first {len(f.first)}:",
                highlight=False,
            )
            for one in f.first:
                where = f"{one.source}: " if one.source else ""
                con.print(f"  {escape(where)}{escape(one.message)}", highlight=False)
            more = f.count - len(f.first)
            con.print(f"  … and {more:,} more (`reconciler validate --all` lists them all)")
            continue
        where = f"{f.source}: " if f.source else ""
        con.print(
            f"{escape(where)}[{style}]{f.severity}[/] {f.rule}: {escape(f.message)}",
            highlight=False,
        )


def lint_before_plan(schemas: Path) -> None:
    """show_plan_lint for the files under `schemas`, loaded here (the fleet's plan)."""
    from reconciler.api import project as api_project  # deferred: start-up

    show_plan_lint(api_project.validate(schemas).findings)


def show_plan_lint(findings: list[Finding]) -> None:
    """What `validate` says of the files, shown by `plan` too: errors as validate lists them
    (summarized), warnings in one line. A plan is read-only, so it is still made."""
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity != "error"]
    print_lint(errors)
    if errors:
        err_console().print(
            f"[red]{counted(len(errors), 'lint error')}[/]: `reconciler validate` (and `check`) "
            "fail on them (exit 1); fix them or silence a rule per table with `lint: {ignore: …}`.",
            highlight=False,
        )
    if warnings:
        rules = sorted({f.rule for f in warnings})
        err_console().print(
            f"[yellow]{counted(len(warnings), 'lint warning')}[/] ({', '.join(rules)}): "
            "`reconciler validate` lists them.",
            highlight=False,
        )
