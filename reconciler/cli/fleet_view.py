"""plan, apply and drift over a fleet: the options they share, the runs, and the rendering of a
FleetReport.

The commands in commands.py hand over here when the chosen environment of reconciler.yaml names
many databases (connect.fleet_environment); the work is reconciler.api.fleet's. Each
target's line goes to stderr as it ends (a rollout of many databases should not be silent), the
table and the JSON document to stdout when all have ended.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from reconciler.api import fleet
from reconciler.cli.root import err_console, out_console
from reconciler.errors import ExitCode
from reconciler.model.words import counted
from reconciler.plan import withheld_drops
from reconciler.plan.files import document
from reconciler.project.config import Environment, setting
from reconciler.render.text import nothing_to_do, render_findings, render_plan

_STYLE = {
    fleet.OK: "green",
    fleet.APPLIED: "green",
    fleet.CHANGES: "yellow",
    fleet.DRIFT: "yellow",
    fleet.FAILED: "bold red",
    fleet.NOT_STARTED: "red",
}


def parallel_of(flag: int | None) -> int:
    return int(setting("parallel", flag, fleet.DEFAULT_PARALLEL))


def targets_of(env: Environment) -> list[fleet.Target]:
    assert env.fleet is not None
    return fleet.targets(env.fleet)


def announce(res: fleet.TargetResult) -> None:
    """One stderr line per target as it ends."""
    style = _STYLE.get(res.status, "")
    text = f"[{style}]{res.status:<11}[/] {escape(res.target.name)} ({res.seconds:.1f} s)"
    if res.error:
        text += f": {escape(res.error)}"
    err_console().print(text, highlight=False)


def _counts(res: fleet.TargetResult, command: str) -> str:
    c = res.counts
    if not c:
        return ""
    if command == "drift":
        return f"{c.get('desired', 0)} desired, {c.get('recorded', 0)} recorded"
    return f"+{c.get('add', 0)} ~{c.get('change', 0)} -{c.get('drop', 0)}"


def render(report: fleet.FleetReport, *, as_json: bool, stderr: bool = False) -> None:
    """The JSON document, or a table and the tally (on stderr when stdout carries JSON)."""
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    from rich.table import Table  # only when a fleet ran: not on every start

    con = err_console() if stderr else out_console()
    table = Table(title=f"{report.command} over {escape(report.environment)}", title_justify="left")
    for column in ("target", "database", "status", "changes", "seconds", "error"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for res in report.results:
        style = _STYLE.get(res.status, "")
        table.add_row(
            escape(res.target.name),
            escape(res.target.shown),
            f"[{style}]{res.status}[/]",
            _counts(res, report.command),
            f"{res.seconds:.1f}",
            escape(res.error or ""),
        )
    con.print(table)
    tally = ", ".join(f"{n} {status}" for status, n in sorted(report.tally().items()))
    con.print(f"{counted(len(report.results), 'database')} in {report.seconds:.1f} s: {tally}.")
    if report.stopped:
        con.print(f"[bold red]{escape(report.stopped)}[/]")


def distinct_plans(report: fleet.FleetReport, *, stderr: bool = False) -> None:
    """Each different plan once, under the databases it is for: a fleet of identical databases
    reviews one plan, and a database that differs stands out."""
    groups: dict[str, list[fleet.TargetResult]] = {}
    for res in report.results:
        if res.detail is not None and not res.detail.empty:
            groups.setdefault(document(res.detail, "up"), []).append(res)
    con = err_console() if stderr else out_console()
    for members in groups.values():
        names = ", ".join(r.target.name for r in members[:8])
        more = f" and {len(members) - 8} more" if len(members) > 8 else ""
        con.print(
            f"\n[bold]{counted(len(members), 'database')}[/]: {escape(names)}{more}",
            highlight=False,
        )
        render_plan(members[0].detail.to_dict(), con)


def withheld(report: fleet.FleetReport, *, stderr: bool = False) -> None:
    """Under each database whose plan has nothing to apply but withholds a drop, the drops
    and why: the database still differs from the YAML, as a single target's plan says (a plan
    with changes shows them with its changes)."""
    con = err_console() if stderr else out_console()
    for res in report.results:
        p = res.detail
        if p is None or not getattr(p, "empty", False):
            continue
        found = withheld_drops(p.findings)
        if found:
            con.print(f"\n[bold]{escape(res.target.name)}[/]:", highlight=False)
            render_findings(found, con)
            con.print(nothing_to_do(p.findings))


def plans_written(report: fleet.FleetReport) -> None:
    con = out_console()
    written = [r for r in report.results if r.plan_path is not None]
    if written:
        where = Path(str(written[0].plan_path)).parent.parent
        con.print(
            f"Saved {len(written)} plans under {escape(str(where))}/<target>/; "
            "`reconciler apply` rolls them out."
        )


def exit_for(report: fleet.FleetReport, *, changes_code: bool) -> None:
    """1 when a target failed or was not started; else 2 for changes/drift when asked."""
    if report.failed:
        raise typer.Exit(ExitCode.ERROR)
    if changes_code and any(r.status in (fleet.CHANGES, fleet.DRIFT) for r in report.results):
        raise typer.Exit(ExitCode.CHANGES)


# ------------------------------------------------------------------------------- the runs


def plan(
    env: Environment,
    schemas: Path,
    *,
    out: Path,
    parallel: int | None,
    as_json: bool,
    detailed_exitcode: bool,
    **options: Any,
) -> None:
    report = fleet.plan(
        env.name,
        targets_of(env),
        schemas,
        out=out,
        parallel=parallel_of(parallel),
        done=announce,
        **options,
    )
    render(report, as_json=as_json)
    if not as_json:
        distinct_plans(report)
        withheld(report)
        plans_written(report)
    exit_for(report, changes_code=detailed_exitcode)


def apply(
    env: Environment,
    schemas: Path,
    *,
    out: Path,
    rollout: fleet.Rollout,
    as_json: bool,
    confirm: Callable[[str], bool],
    **options: Any,
) -> None:
    def shown(planned: fleet.FleetReport) -> bool:
        render(planned, as_json=False, stderr=as_json)  # stdout carries only the JSON
        distinct_plans(planned, stderr=as_json)
        return confirm("\nApply these plans to the fleet?")

    report = fleet.apply(
        env.name,
        targets_of(env),
        schemas,
        out=out,
        logs=Path("state/logs"),
        rollout=rollout,
        confirm=shown,
        done=announce,
        **options,
    )
    render(report, as_json=as_json)
    if not as_json:
        withheld(report)
    exit_for(report, changes_code=False)


def drift(
    env: Environment,
    schemas: Path,
    *,
    parallel: int | None,
    as_json: bool,
    metrics_file: Path | None,
) -> None:
    from reconciler.api.drift import write_metrics

    try:
        report = fleet.drift(
            env.name, targets_of(env), schemas, parallel=parallel_of(parallel), done=announce
        )
    except Exception:
        if metrics_file is not None:
            write_metrics(metrics_file, None)  # the scraper sees the check failing
        raise
    if metrics_file is not None:
        checks = [(r.target.name, r.detail) for r in report.results]
        write_metrics(metrics_file, None, fleet=checks)
    render(report, as_json=as_json)
    exit_for(report, changes_code=True)
