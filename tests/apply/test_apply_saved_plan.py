"""apply --plan of a saved plan: its files are proved unedited by rendering them once, and
what the state records as the run's SQL is exactly what those files hold."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import reconciler.plan.files as plan_files
from reconciler.state.postgres import PgState
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "schemas"


def test_a_saved_plan_is_rendered_once_per_file_and_recorded_as_its_files(
    pg_url, pg_conn, tmp_path, monkeypatch
):
    plans = tmp_path / "plans"
    r = run_cli(
        "plan", "--pg", pg_url, "--schemas", str(EXAMPLE), "--out", str(plans), cwd=tmp_path
    )
    assert r.code == 0, r.text
    rendered: Counter[tuple[str, str]] = Counter()
    real = plan_files._render

    def counting(plan, engine, direction, legacy, **layout):
        rendered[engine, direction] += 1
        return real(plan, engine, direction, legacy, **layout)

    monkeypatch.setattr(plan_files, "_render", counting)
    plan_json = next(plans.glob("*.plan.json"))
    r = run_cli("apply", "--pg", pg_url, "--plan", str(plan_json), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    assert rendered == {
        ("pg", "up"): 1,
        ("pg", "down"): 1,
        ("redis", "up"): 1,
        ("redis", "down"): 1,
    }
    rec = PgState(pg_conn).get(plan_json.name.split("_")[0])
    assert rec is not None and rec.status == "applied"
    assert rec.up_sql == next(plans.glob("*_up.sql")).read_text(encoding="utf-8")
    assert rec.down_sql == next(plans.glob("*_down.sql")).read_text(encoding="utf-8")
