"""`plan --sql` / `show --sql`: every line of a multi-line statement sits under its change,
laid out as in the plan's files (a DO block's statement indented inside it)."""

from __future__ import annotations

import io

from rich.console import Console

from reconciler.render.text import render_plan
from reconciler.sql.render import guarded

DO = guarded('ALTER TABLE "t" ADD CONSTRAINT "c" CHECK (a > 0)', "duplicate_object")
PLAN = {
    "changes": [
        {
            "address": "pg.constraint.public.t.c",
            "action": "create",
            "symbol": "+",
            "kind": "constraint",
            "description": "check",
            "hazards": [],
            "up": [DO],
        }
    ],
    "summary": {"add": 1, "change": 0, "drop": 0},
}


def test_sql_lines_of_a_statement_stay_under_their_change():
    out = io.StringIO()
    render_plan(PLAN, Console(file=out, no_color=True, width=200), show_sql=True)
    lines = out.getvalue().splitlines()
    (at,) = [i for i, line in enumerate(lines) if line.endswith("DO $reconciler$BEGIN")]
    pad = lines[at][: -len("DO $reconciler$BEGIN")]
    assert len(pad) > len("     + "), lines  # under the change's line
    assert lines[at + 1 : at + 4] == [
        f'{pad}    ALTER TABLE "t" ADD CONSTRAINT "c" CHECK (a > 0);',
        f"{pad}EXCEPTION WHEN duplicate_object THEN NULL;",
        f"{pad}END$reconciler$",
    ], lines
