"""reconciler redis health: the seed's health_check.py --url, with thresholds and --json."""

from __future__ import annotations

import json

import typer
from rich.markup import escape

from reconciler.cli.root import app, out_console
from reconciler.errors import ExitCode

redis_app = typer.Typer(help="Redis server checks.")
app.add_typer(redis_app, name="redis")


@redis_app.command("health")
def health(
    url: str = typer.Option(..., "--url", help="redis://host:port/db"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    max_latency_ms: float = typer.Option(50.0, "--max-latency-ms"),
    max_memory_ratio: float = typer.Option(0.9, "--max-memory-ratio"),
    max_evictions: int = typer.Option(0, "--max-evictions"),
    max_rejected: int = typer.Option(0, "--max-rejected-connections"),
) -> None:
    """PING latency, memory, evictions, rejected connections, persistence, role (exit 1 when
    unhealthy or unreachable).

    Example: reconciler redis health --url redis://127.0.0.1:6379/0 --json
    """
    from reconciler.api.servers import HealthThresholds, redis_health  # deferred: start-up

    report = redis_health(
        url,
        thresholds=HealthThresholds(
            max_latency_ms=max_latency_ms,
            max_memory_ratio=max_memory_ratio,
            max_evicted_keys=max_evictions,
            max_rejected_connections=max_rejected,
        ),
    )
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        con = out_console()
        state = "[green]healthy[/]" if report.healthy else "[red]unhealthy[/]"
        con.print(f"Redis {escape(str(report.to_dict().get('url', url)))}: {state}")
        for problem in report.problems:
            con.print(f"  [red]![/] {escape(problem)}")
    if not report.healthy:
        raise typer.Exit(ExitCode.ERROR)
