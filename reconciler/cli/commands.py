"""validate, plan, apply, export, gen-ddl, drift."""

from __future__ import annotations

import json
import os
import sys
from functools import partial
from pathlib import Path

import typer
from rich.markup import escape

from reconciler import api
from reconciler.apply.timeouts import Timeouts
from reconciler.cli.lint_view import lint_before_plan, print_lint, show_plan_lint
from reconciler.cli.options import (
    CANARY,
    CONTINUE,
    DEFAULTS,
    DROP_MODE,
    IN_BATCHES,
    LARGE_ROWS,
    LOCK_TIMEOUT,
    PARALLEL,
    PG,
    REDIS,
    SCHEMAS,
    TARGET,
    ask_to_confirm,
    duration,
    print_notes,
    print_skipped,
    refuse_fleet_options,
)
from reconciler.cli.progress import StatementBar, interactive, reading, scan_progress
from reconciler.cli.root import app, err_console, out_console
from reconciler.cli.summaries import count, print_files_by_kind
from reconciler.connect import fleet_environment, resolve_targets
from reconciler.errors import ExitCode, InputError
from reconciler.model.words import counted
from reconciler.plan import Plan, withheld_drops
from reconciler.plan.files import find_plan
from reconciler.project.config import setting
from reconciler.render.drift_text import drift_advice, drift_lines
from reconciler.render.summary import SUMMARY_OVER, show_plan
from reconciler.render.text import (
    nothing_to_do,
    print_lines,
    render_findings,
    render_redis_export,
    render_unsupported,
)

_TARGETED = (
    "\n[yellow]Targeted[/]: only the changes --target names and those they need first; other "
    "differences stay for a later plan (`reconciler drift` still reports them)."
)


@app.command()
def validate(
    schemas: Path = SCHEMAS,
    every: bool = typer.Option(
        False, "--all", help="List every lint finding (else a rule found often is summarized)."
    ),
) -> None:
    """Load, validate and lint the desired state (exit 1 on errors or error-level lint); the
    summary counts every kind of object loaded.

    Example: reconciler validate --schemas schemas
    """
    from reconciler.api import project as api_project  # deferred: start-up

    checked = api_project.validate(schemas)
    want, findings, errors = checked.desired, checked.findings, checked.errors
    print_lint(findings, every=every)
    loaded = ", ".join(count(n, kind) for kind, n in checked.counts) or "no objects"
    warnings = len(findings) - len(errors)
    out_console().print(
        f"{count(len(want.files), 'files')}: {loaded}; "
        f"{count(len(errors), 'lint errors')}, {count(warnings, 'warnings')}."
    )
    if errors:
        raise typer.Exit(ExitCode.ERROR)


@app.command()
def plan(
    pg: str = PG,
    redis: str = REDIS,
    schemas: Path = SCHEMAS,
    out: Path = typer.Option(Path("plans"), "--out", help="Where to write the plan files."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    detailed_exitcode: bool = typer.Option(
        False, "--detailed-exitcode", help="Exit 2 when there are changes, 0 when none."
    ),
    show_sql: bool = typer.Option(False, "--sql", help="Show the SQL of each change."),
    summary: bool = typer.Option(
        False,
        "--summary",
        help="Counts per kind and action and per hazard code, then every hazard (one a line), "
        f"instead of every change; the default on a terminal above {SUMMARY_OVER} changes.",
    ),
    full: bool = typer.Option(
        False, "--full", help="Every change, however many (no automatic summary)."
    ),
    drop_mode: str = DROP_MODE,
    large_rows: int = LARGE_ROWS,
    target: list[str] | None = TARGET,
    parallel: int | None = PARALLEL,
) -> None:
    """Compare the live database with the desired state and write the up/down plan files.

    Every plan with changes, --json and --detailed-exitcode included, is saved under --out
    (plans/): <version>_<slug>.plan.json with its _up/_down .sql (and .redis) files. When
    that folder already holds a not-yet-applied plan with the same changes made against the
    same live state, that plan is reused and its path printed: nothing new is written.

    Example: reconciler plan --pg postgresql://127.0.0.1/app --schemas schemas --detailed-exitcode
    """
    if (env := fleet_environment(pg, redis)) is not None:
        from reconciler.cli import fleet_view as fv  # deferred: start-up: a fleet's runs

        lint_before_plan(schemas)
        fv.plan(
            env,
            schemas,
            out=out,
            parallel=parallel,
            as_json=as_json,
            detailed_exitcode=detailed_exitcode,
            drop_mode=drop_mode,
            large_rows=large_rows,
            only=tuple(target or ()),
        )
        return
    refuse_fleet_options(parallel=parallel)
    if summary and (full or show_sql):
        raise InputError("--summary shows no change one by one: leave out --full and --sql.")
    pg_url, redis_url = resolve_targets(pg, redis)
    with scan_progress(redis_url is not None) as progress, reading(redis_url is None):
        result = api.plan(
            pg_url,
            schemas,
            out_dir=out,
            redis_url=redis_url,
            progress=progress,
            drop_mode=drop_mode,
            large_rows=large_rows,
            only=tuple(target or ()),
            on_lint=show_plan_lint,
        )
    p = result.plan
    if as_json:
        sys.stdout.writelines(p.json_chunks())  # a large plan's JSON is never held whole
    else:
        con = out_console()
        show_plan(p.to_dict(lazy=True), con, summary=summary, full=full, show_sql=show_sql)
        if target and not p.empty:
            con.print(_TARGETED, highlight=False)
        if result.json_path is not None:
            others = ", ".join(m["name"] for m in p.files.values())
            said = "Plan unchanged, reusing" if result.reused else "Saved plan"
            con.print(f"\n{said} {escape(str(result.json_path))} (+ {escape(others)}).")
            con.print(f"Apply it with: reconciler apply --plan {escape(str(result.json_path))}")
    if detailed_exitcode and not p.empty:
        raise typer.Exit(ExitCode.CHANGES)


@app.command()
def apply(
    version: str = typer.Argument(None, help="Version of a saved plan in --out (optional)."),
    pg: str = PG,
    redis: str = REDIS,
    schemas: Path = typer.Option(None, "--schemas", help="Plan from this directory and apply."),
    plan_file: Path = typer.Option(None, "--plan", help="A saved .plan.json to apply."),
    out: Path = typer.Option(Path("plans"), "--out", help="Plans directory."),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask to confirm."),
    allow_destructive: bool = typer.Option(
        False,
        "--allow-destructive",
        help=(
            "Allow what loses data or protection: drops of schemas, tables, columns and "
            "sequences, value-changing type changes, Redis prunes, restrictive policies "
            "dropped, row-level security off."
        ),
    ),
    lock_timeout: float | None = LOCK_TIMEOUT,
    ddl_lock_timeout: str | None = typer.Option(
        None,
        "--ddl-lock-timeout",
        help="Postgres lock_timeout for each statement (default 5s, or the environment's).",
    ),
    statement_timeout: str | None = typer.Option(
        None,
        "--statement-timeout",
        help="Postgres statement_timeout for each statement (default 30min, or the environment's).",
    ),
    lock_retries: int | None = typer.Option(
        None,
        "--lock-retries",
        min=0,
        help="Tries again (after 1, 2, 4 … s) when a statement's lock was not obtained "
        "(default 3, or the environment's).",
    ),
    drop_mode: str = DROP_MODE,
    large_rows: int = LARGE_ROWS,
    in_batches: bool = IN_BATCHES,
    target: list[str] | None = TARGET,
    parallel: int | None = PARALLEL,
    canary: int | None = CANARY,
    continue_on_error: bool = CONTINUE,
    as_json: bool = typer.Option(False, "--json", help="Fleet: print the report as JSON."),
) -> None:
    """Apply a saved plan, or plan and apply from --schemas, under the lock.

    With --schemas the plan it applies is saved under --out first, like `plan` does (an
    identical not-yet-applied plan already there is applied instead of a copy).

    Example: reconciler apply --plan plans/20261125120000_create_users.plan.json --pg postgresql://127.0.0.1/app
    """
    timeouts = Timeouts(
        duration("--ddl-lock-timeout", ddl_lock_timeout, DEFAULTS.lock_timeout),
        duration("--statement-timeout", statement_timeout, DEFAULTS.statement_timeout),
        setting("lock_retries", lock_retries, DEFAULTS.lock_retries),
    )
    if (env := fleet_environment(pg, redis)) is not None:
        if version or plan_file:
            raise InputError(
                f"Environment {env.name!r} is a fleet: apply plans each database from --schemas "
                "and rolls the plans out; a saved plan belongs to one database (pass --pg)."
            )
        from reconciler.api import fleet as api_fleet  # deferred: start-up: as in plan
        from reconciler.cli import fleet_view as fv  # deferred: start-up: as in plan

        fv.apply(
            env,
            schemas or Path("schemas"),
            out=out,
            rollout=api_fleet.Rollout(
                parallel=fv.parallel_of(parallel),
                canary=int(setting("canary", canary, 0)),
                continue_on_error=continue_on_error,
            ),
            as_json=as_json,
            confirm=partial(ask_to_confirm, auto_approve=auto_approve),
            allow_destructive=allow_destructive,
            lock_timeout=setting("lock_timeout", lock_timeout, 0.0),
            timeouts=timeouts,
            drop_mode=drop_mode,
            large_rows=large_rows,
            in_batches=in_batches,
            only=tuple(target or ()),
        )
        return
    refuse_fleet_options(
        parallel=parallel, canary=canary, continue_on_error=continue_on_error, json=as_json
    )
    if version:
        plan_file = find_plan(version, out)
    if plan_file is None and schemas is None:
        schemas = Path("schemas")
    con = out_console()

    bar_stop = None

    def confirm(p: Plan) -> bool:
        if bar_stop is not None:
            bar_stop()
        every = f"`reconciler show {p.version}` for every change"
        show_plan(p.to_dict(), con, every=every)
        return ask_to_confirm("\nApply these changes?", auto_approve)

    pg_url, redis_url = resolve_targets(pg, redis)
    statements = StatementBar() if interactive() else None
    with scan_progress(redis_url is not None) as progress:
        if progress is not None:
            bar_stop = progress.stop  # type: ignore[attr-defined]
        try:
            result = api.apply(
                pg_url,
                redis_url=redis_url,
                progress=progress,
                plan_path=plan_file,
                schemas_dir=schemas,
                out_dir=out,
                allow_destructive=allow_destructive,
                lock_timeout=setting("lock_timeout", lock_timeout, 0.0),
                timeouts=timeouts,
                confirm=confirm,
                drop_mode=drop_mode,
                large_rows=large_rows,
                in_batches=in_batches,
                only=tuple(target or ()),
                statements_done=statements,
            )
        finally:
            if statements is not None:
                statements.close()
    print_notes(result.notes)
    if not result.applied:
        render_findings(withheld_drops(result.plan.findings), con)
        con.print(nothing_to_do(result.plan.findings))
        return
    print_skipped(result.skipped, "plan and apply")
    n = result.plan.counts()
    # The counts are the plan's changes; a Redis change's keys skipped were left as they were.
    skipped = f"{counted(len(result.skipped), 'key')} skipped, above; " if result.skipped else ""
    con.print(
        f"\n[green]Apply complete![/] {n['add']} added, {n['change']} changed, "
        f"{n['drop']} dropped in {result.duration_ms} ms ({skipped}version "
        f"{result.plan.version}; log {escape(str(result.log_path))})."
    )


@app.command()
def export(
    pg: str = PG,
    redis: str = REDIS,
    out: Path = typer.Option(..., "--out", help="Directory to write the YAML into."),
) -> None:
    """Write the live database (and/or Redis keyspace, as inferred patterns) as YAML; the
    summary counts every kind of object exported and names the files written, by folder.

    Example: reconciler export --pg postgresql://127.0.0.1/app --out schemas
    """
    from reconciler.api import export as api_export  # deferred: start-up

    pg_url, redis_url = resolve_targets(pg, redis)
    con = out_console()
    if pg_url:
        exported = api_export.export_pg(pg_url, out)
        snap, files, moved = exported.snapshot, exported.files, exported.moved
        render_unsupported([{"kind": k, "name": n} for k, n in snap.unsupported], err_console())
        from reconciler.api.counts import kind_counts  # deferred: start-up

        objects = ", ".join(count(n, kind) for kind, n in kind_counts(snap)) or "no objects"
        con.print(
            f"Exported {objects} into {count(len(files), 'files')} under {escape(str(out))}/:"
        )
        print_files_by_kind(files, out)
        if moved:
            aside = os.path.commonpath([str(p.parent) for p in moved])
            con.print(
                f"[yellow]{counted(len(moved), 'file')} it did not write again[/] (objects gone, "
                f"or written by hand) were moved, not deleted, to {escape(aside)}/."
            )
    if redis_url:
        render_redis_export(api_export.export_redis(redis_url, out), out, con)


@app.command("gen-ddl")
def gen_ddl(
    table: str = typer.Argument(..., help="Table name, or schema.table."),
    schemas: Path = SCHEMAS,
) -> None:
    """Draft SQL for one table from its YAML (to review; apply uses plans).

    Example: reconciler gen-ddl users --schemas schemas
    """
    from reconciler.api import project as api_project  # deferred: start-up

    for statement in api_project.gen_ddl(table, schemas):
        print(statement)


@app.command()
def drift(
    pg: str = PG,
    redis: str = REDIS,
    schemas: Path = SCHEMAS,
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    metrics_file: Path = typer.Option(
        None, "--metrics-file", help="Write a Prometheus textfile (atomically)."
    ),
    parallel: int | None = PARALLEL,
) -> None:
    """Live vs desired and vs what the last apply recorded: exit 0 none, 2 drift, 1 error.

    Example: reconciler drift --schemas schemas --json --metrics-file /var/lib/reconciler.prom
    """
    from reconciler.api.drift import drift as drift_report
    from reconciler.api.drift import write_metrics

    if (env := fleet_environment(pg, redis)) is not None:
        from reconciler.cli import fleet_view as fv  # deferred: start-up: as in plan

        fv.drift(env, schemas, parallel=parallel, as_json=as_json, metrics_file=metrics_file)
        return
    refuse_fleet_options(parallel=parallel)
    try:
        pg_url, redis_url = resolve_targets(pg, redis)
        report = drift_report(pg_url, redis_url, schemas)
    except Exception:
        if metrics_file is not None:
            write_metrics(metrics_file, None)  # the scraper sees the check failing
        raise
    if metrics_file is not None:
        write_metrics(metrics_file, report)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        con = out_console()
        doc = report.to_dict()
        print_lines(con, drift_lines(doc))
        for sentence in drift_advice(doc):
            con.print(sentence)
    if report.drifted:
        raise typer.Exit(ExitCode.CHANGES)
