"""The plan as text: the same words with colour on a terminal and without it elsewhere."""

from __future__ import annotations

import io
import os
import re

from rich.console import Console

from reconciler.cli import root as cli
from reconciler.render.text import render_plan

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

PLAN = {
    "changes": [
        {
            "address": "pg.table.public.users",
            "action": "create",
            "symbol": "+",
            "description": "table [with] 3 columns",
            "hazards": [],
            "up": ["CREATE TABLE users (id int)"],
        },
        {
            "address": "pg.column.public.orders.note",
            "action": "drop",
            "symbol": "-",
            "description": "column text",
            "hazards": [{"code": "destructive", "message": "drops [data] in 12 rows"}],
            "up": ["ALTER TABLE orders DROP COLUMN note"],
        },
    ],
    "summary": {"add": 1, "change": 0, "drop": 1},
}


def _render(**console_options) -> str:
    out = io.StringIO()
    console = Console(file=out, highlight=False, soft_wrap=True, **console_options)
    render_plan(PLAN, console, show_sql=True)
    return out.getvalue()


def test_without_a_terminal_the_plan_is_plain_text():
    text = _render()
    assert "\x1b[" not in text
    assert "   + pg.table.public.users         " in text
    assert "table [with] 3 columns" in text  # brackets are text, not markup
    assert "  ! destructive  pg.column.public.orders.note: drops [data] in 12 rows" in text
    assert "      CREATE TABLE users (id int)" in text


def test_on_a_terminal_the_same_text_is_coloured():
    coloured = _render(force_terminal=True, color_system="standard")
    assert "\x1b[32m" in coloured and "\x1b[1;31m" in coloured  # create green, hazard bold red
    assert _ANSI.sub("", coloured) == _render()


def test_no_color_gives_plain_text(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert _render(force_terminal=True) == _render()


def test_no_color_flag_gives_plain_text_on_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setitem(cli._plain, "on", False)
    cli._root(debug=False, version=False, env=None, no_color=True)
    assert "NO_COLOR" not in os.environ  # the run's choice, not the environment of children
    assert cli.out_console().color_system is None and cli.err_console().color_system is None
    assert _render(force_terminal=True, no_color=cli.plain()) == _render()


def test_a_changed_check_reads_as_yaml_not_as_a_python_dict():
    check = {"name": "positive", "expression": "VALUE > 0", "comment": None}
    plan = {
        "changes": [
            {
                "address": "pg.domain.public.amount",
                "action": "change",
                "symbol": "~",
                "kind": "domain",
                "description": "domain",
                "hazards": [],
                "details": [{"attribute": "checks", "old": [check], "new": []}],
                "up": [],
            }
        ],
        "summary": {"add": 0, "change": 1, "drop": 0},
    }
    out = io.StringIO()
    render_plan(plan, Console(file=out, highlight=False, soft_wrap=True))
    text = out.getvalue()
    assert "checks: [{name: positive, expression: VALUE > 0}] → []" in text
    assert "'" not in text and "None" not in text


def test_an_empty_text_is_shown_as_quotes_not_as_nothing():
    from reconciler.render.text import plan_lines

    change = {
        "address": "redis.config.notify-keyspace-events",
        "action": "change",
        "symbol": "~",
        "kind": "config",
        "description": "config",
        "details": [{"attribute": "value", "old": "", "new": "Ex"}],
        "up": [],
        "hazards": [],
    }
    text = "".join(t for line in plan_lines({"changes": [change]}) for t, _ in line)
    assert 'value: "" → Ex' in text, text
