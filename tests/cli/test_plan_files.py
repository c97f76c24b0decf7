"""What `plan` and `apply --schemas` leave in plans/: one plan per distinct change, and a
plan a later one replaced does not fail `reconciler check`. Real server, real CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers import run_cli, write_yaml

ACCOUNTS = """
table: accounts
primary_key: [id]
columns:
  - {name: id, type: uuid, nullable: false}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
"""
NOTE = "  - {name: note, type: text, nullable: true}\n"
BALANCE = "  - {name: balance, type: numeric, nullable: false, default: '0'}\n"


def _plan(tmp_path: Path, pg_url: str, *extra: str):
    return run_cli("plan", "--pg", pg_url, "--schemas", "schemas", *extra, cwd=tmp_path)


def _saved(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "plans").glob("*.plan.json"))


def test_planning_twice_reuses_the_pending_plan(pg_url, tmp_path):
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS)
    first = _plan(tmp_path, pg_url)
    assert first.code == 0, first.text
    files = sorted(p.name for p in (tmp_path / "plans").iterdir())

    again = _plan(tmp_path, pg_url)
    as_json = _plan(tmp_path, pg_url, "--json")
    exitcode = _plan(tmp_path, pg_url, "--detailed-exitcode")

    assert again.code == 0 and as_json.code == 0, again.text + as_json.text
    assert exitcode.code == 2, exitcode.text
    assert sorted(p.name for p in (tmp_path / "plans").iterdir()) == files  # nothing new
    (saved,) = _saved(tmp_path)
    assert f"Plan unchanged, reusing plans/{saved}" in " ".join(again.out.split())
    assert f"apply --plan plans/{saved}" in " ".join(again.out.split())
    assert '"version": "' + saved.split("_")[0] in as_json.out  # the saved plan's version


def test_apply_schemas_applies_the_pending_plan_instead_of_a_copy(pg_url, tmp_path):
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS)
    assert _plan(tmp_path, pg_url).code == 0
    before = _saved(tmp_path)

    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path)

    assert r.code == 0, r.text
    assert _saved(tmp_path) == before
    (json_path,) = (tmp_path / "plans").glob("*.plan.json")
    assert f"Plan unchanged: applying the pending plan plans/{json_path.name}." in r.err, r.text
    r = run_cli("check", "--pg", pg_url, "--schemas", "schemas", "--plans", "plans", cwd=tmp_path)
    assert r.code == 0, r.text


def test_a_different_change_is_a_new_plan(pg_url, tmp_path):
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS)
    assert _plan(tmp_path, pg_url).code == 0
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS + NOTE)
    r = _plan(tmp_path, pg_url)
    assert r.code == 0, r.text
    assert "Plan unchanged" not in r.out
    assert len(_saved(tmp_path)) == 2


def test_a_plan_made_against_another_live_state_is_a_new_plan(pg_url, pg_conn, tmp_path):
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS)
    assert _plan(tmp_path, pg_url).code == 0
    pg_conn.execute("CREATE TABLE public.unrelated (id int)")  # the live state moved
    r = _plan(tmp_path, pg_url)
    assert r.code == 0, r.text
    assert "Plan unchanged" not in r.out
    assert len(_saved(tmp_path)) == 2


def test_check_skips_a_superseded_plan_and_names_what_replaced_it(pg_url, tmp_path):
    """The getting-started walk: a plan, the schemas edited, then apply --schemas; the first
    plan stays unapplied in plans/ and must not fail check."""
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS)
    assert (
        run_cli(
            "apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path
        ).code
        == 0
    )
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS + NOTE)
    assert _plan(tmp_path, pg_url).code == 0
    old = _saved(tmp_path)[-1].removesuffix(".plan.json")
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS + NOTE + BALANCE)
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    newer = _saved(tmp_path)[-1].removesuffix(".plan.json")

    r = run_cli("check", "--pg", pg_url, "--schemas", "schemas", "--plans", "plans", cwd=tmp_path)

    assert r.code == 0, r.text
    text = " ".join(r.out.split())
    assert f"{old}: superseded by {newer}" in text
    assert "FAIL" not in r.out


def test_the_live_objects_digests_take_one_line_of_the_plan_file(pg_url, pg_conn, tmp_path):
    """A plan records a digest per live object (to say what moved when it is stale): on one
    line, so the file a reviewer diffs stays its changes, however big the database."""
    for i in range(30):
        pg_conn.execute(f"CREATE TABLE keep_{i:02d} (id int PRIMARY KEY, note text)")
    pg_conn.commit()
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS)
    r = _plan(tmp_path, pg_url, "--json")
    assert r.code == 0, r.text

    (saved,) = _saved(tmp_path)
    text = (tmp_path / "plans" / saved).read_text(encoding="utf-8")
    digests = [line for line in text.splitlines() if '"live_objects"' in line]
    assert len(digests) == 1 and digests[0].count('"pg.table.public.keep_') == 30, digests
    digest = re.compile(r'"pg\.table\.public\.keep_\d\d": ?"[0-9a-f]+"')
    assert not digest.search(text.replace(digests[0], ""))  # no digest on a line of its own
    assert json.loads(r.out)["live_objects"] == json.loads(text)["live_objects"]


def test_going_back_to_an_earlier_plan_writes_a_new_one_that_supersedes_both(pg_url, tmp_path):
    """Plan A, edit, plan B, undo the edit, plan: A is not reused (B, newer and made from the
    same live state, would supersede it and check would fail on B's leftovers); a new plan is
    written that supersedes both, and check passes before and after applying it."""
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS)
    assert _plan(tmp_path, pg_url).code == 0
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS + NOTE)
    assert _plan(tmp_path, pg_url).code == 0
    first, second = _saved(tmp_path)
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS)

    r = _plan(tmp_path, pg_url)

    assert r.code == 0, r.text
    assert "Plan unchanged" not in r.out
    third = _saved(tmp_path)[-1]
    assert third not in (first, second)
    check = ("check", "--pg", pg_url, "--schemas", "schemas", "--plans", "plans")
    r = run_cli(*check, cwd=tmp_path)
    assert r.code == 0, r.text
    text = " ".join(r.out.split())
    for old in (first, second):
        assert f"{old.removesuffix('.plan.json')}: superseded by" in text, r.out
    r = run_cli("apply", "--plan", f"plans/{third}", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    r = run_cli(*check, cwd=tmp_path)
    assert r.code == 0 and "FAIL" not in r.out, r.text


def test_plan_reads_and_checks_the_files_once(pg_url, tmp_path, monkeypatch):
    """plan lints the files it plans from: one load serves both, cache or no cache."""
    import reconciler.desired as desired_mod

    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS)
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    parses = []
    real = desired_mod._parse
    monkeypatch.setattr(desired_mod, "_parse", lambda tree: parses.append(1) or real(tree))
    result = _plan(tmp_path, pg_url)
    assert result.code == 0, result.text
    assert "Saved plan" in result.out
    assert len(parses) == 1


def test_a_schemas_folder_without_yaml_plans_nothing_and_applies_nothing(pg_url, tmp_path):
    """A wrong --schemas that names an existing but empty folder would plan (and with
    --allow-destructive apply) the drop of every table: refused in one sentence instead,
    before any plan file is written, by plan, apply --schemas and drift alike."""
    write_yaml(tmp_path / "schemas", "accounts.yaml", ACCOUNTS)
    applied = run_cli(
        "apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path
    )
    assert applied.code == 0, applied.text
    (tmp_path / "typo").mkdir()
    before = _saved(tmp_path)
    for args in (
        ("plan", "--pg", pg_url, "--schemas", "typo"),
        ("apply", "--pg", pg_url, "--schemas", "typo", "--allow-destructive", "--auto-approve"),
        ("drift", "--pg", pg_url, "--schemas", "typo"),
    ):
        r = run_cli(*args, cwd=tmp_path)
        assert r.code == 1, (args, r.text)
        assert "typo/ holds no YAML file" in r.err, r.text
    assert _saved(tmp_path) == before
    again = _plan(tmp_path, pg_url)
    assert again.code == 0 and "No changes" in again.out, again.text
