"""docs/reliability.md states each data-safety guarantee with the test that proves it: every
test it names exists, and the page says what the list says."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.reliability.report import DOC, GUARANTEES, render_guarantees

HERE = Path(__file__).resolve().parent


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_every_guarantee_names_tests_that_exist():
    for claim, tests in GUARANTEES:
        for name in (t.strip() for t in tests.split(",")):
            file, _, function = name.partition("::")
            assert function in _functions(HERE / file), f"{claim!r} names a missing test {name}"


def test_the_page_states_every_guarantee():
    page = DOC.read_text(encoding="utf-8")
    assert "\n".join(render_guarantees()) in page, (
        "docs/reliability.md is stale: render it with `python -m tests.reliability.report` "
        "or splice in render_guarantees()"
    )
