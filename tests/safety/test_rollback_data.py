"""A rollback loses no rows: its drops pass the forward plan's gate and keep data in the
trash; applying the version again brings it back; a purge that took the kept rows is named."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.helpers import run_cli, write_yaml

NOTES = """\
table: notes
columns:
  - {name: id, type: uuid, nullable: false, default: gen_random_uuid()}
  - {name: body, type: text}
  - {name: created_at, type: timestamptz, nullable: false, default: now()}
  - {name: updated_at, type: timestamptz, nullable: false, default: now()}
primary_key: [id]
"""
TAG = "  - {name: tag, type: text}\n"


def _q(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query)
        return cur.fetchall() if cur.description else []


def _apply(cwd: Path, pg_url: str, text: str) -> str:
    write_yaml(cwd, "schemas/tables/notes.yaml", text)
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=cwd)
    assert r.code == 0, r.text
    history = run_cli("state", "history", "--pg", pg_url, "--json", cwd=cwd)
    return json.loads(history.out)[0]["version"]


def _digest(url: str, query: str) -> str:
    return _q(url, f"SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM ({query}) x")[0][0]


def _history(cwd: Path, pg_url: str) -> list[tuple[str, str, str]]:
    r = run_cli("state", "history", "--pg", pg_url, "--json", cwd=cwd)
    return [(a["version"], a["direction"], a["status"]) for a in json.loads(r.out)]


def test_rollback_of_a_table_holding_rows_is_gated_and_kept(pg_url, tmp_path):
    version = _apply(tmp_path, pg_url, NOTES)
    _q(pg_url, "INSERT INTO notes (body) SELECT 'n' || g FROM generate_series(1, 5000) g")
    rows = _digest(pg_url, "SELECT * FROM notes")
    history = _history(tmp_path, pg_url)

    refused = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert refused.code == 1
    assert "table public.notes holds 5,000 rows" in refused.err
    assert "--allow-destructive" in refused.err
    assert _digest(pg_url, "SELECT * FROM notes") == rows  # nothing touched
    assert _history(tmp_path, pg_url) == history

    done = run_cli(
        "rollback", "--last", "--pg", pg_url, "--auto-approve", "--allow-destructive", cwd=tmp_path
    )
    assert done.code == 0, done.text
    assert "holding 5,000 rows" in done.out  # the hazard is shown as apply shows it
    assert _q(pg_url, "SELECT to_regclass('public.notes')")[0][0] is None
    kept = run_cli("trash", "list", "--pg", pg_url, "--json", cwd=tmp_path)
    assert [e["object"] for e in json.loads(kept.out)] == ["public.notes"]

    again = run_cli("apply", version, "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert again.code == 0, again.text
    assert _digest(pg_url, "SELECT * FROM notes") == rows  # back identical
    assert json.loads(run_cli("trash", "list", "--pg", pg_url, "--json", cwd=tmp_path).out) == []
    plan = run_cli(
        "plan", "--pg", pg_url, "--schemas", "schemas", "--detailed-exitcode", cwd=tmp_path
    )
    assert plan.code == 0, plan.text


def test_rollback_of_a_column_holding_values_is_gated_and_kept(pg_url, tmp_path):
    _apply(tmp_path, pg_url, NOTES)
    _q(pg_url, "INSERT INTO notes (body) SELECT 'n' || g FROM generate_series(1, 300) g")
    version = _apply(tmp_path, pg_url, NOTES.replace("primary_key", TAG + "primary_key"))
    _q(pg_url, "UPDATE notes SET tag = 't' || length(body) WHERE body LIKE '%1%'")
    values = _digest(pg_url, "SELECT id, tag FROM notes")

    refused = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert refused.code == 1
    assert "column tag of public.notes holds" in refused.err
    assert _digest(pg_url, "SELECT id, tag FROM notes") == values

    done = run_cli(
        "rollback", "--last", "--pg", pg_url, "--auto-approve", "--allow-destructive", cwd=tmp_path
    )
    assert done.code == 0, done.text
    columns = _q(
        pg_url,
        "SELECT attname FROM pg_attribute WHERE attrelid = 'notes'::regclass "
        "AND attnum > 0 AND NOT attisdropped",
    )
    assert ("tag",) not in columns
    again = run_cli("apply", version, "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert again.code == 0, again.text
    assert _digest(pg_url, "SELECT id, tag FROM notes") == values


def test_rollback_of_an_empty_table_needs_no_flag(pg_url, tmp_path):
    _apply(tmp_path, pg_url, NOTES)
    done = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert done.code == 0, done.text
    assert _q(pg_url, "SELECT to_regclass('public.notes')")[0][0] is None


def test_rollback_after_the_kept_rows_were_purged_is_refused_naming_the_purge(pg_url, tmp_path):
    _apply(tmp_path, pg_url, NOTES)
    _q(pg_url, "INSERT INTO notes (body) SELECT 'n' || g FROM generate_series(1, 50) g")
    write_yaml(tmp_path, "schemas/tables/notes.yaml", "")
    (tmp_path / "schemas/tables/notes.yaml").unlink()
    write_yaml(tmp_path, "schemas/tables/keep.yaml", NOTES.replace("notes", "keep"))
    r = run_cli(
        "apply",
        "--pg",
        pg_url,
        "--schemas",
        "schemas",
        "--auto-approve",
        "--allow-destructive",
        cwd=tmp_path,
    )
    assert r.code == 0, r.text  # notes dropped, its rows kept in the trash
    drop_version = _history(tmp_path, pg_url)[0][0]

    purge = run_cli(
        "trash", "purge", "--older-than", "0s", "--pg", pg_url, "--auto-approve", cwd=tmp_path
    )
    assert purge.code == 0, purge.text
    assert drop_version in purge.text  # the version whose rollback can no longer restore

    refused = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert refused.code == 1
    assert "empty" in refused.err and "trash purge" in refused.err
    assert _q(pg_url, "SELECT to_regclass('public.notes')")[0][0] is None
    done = run_cli(
        "rollback", "--last", "--pg", pg_url, "--auto-approve", "--allow-destructive", cwd=tmp_path
    )
    assert done.code == 0, done.text
    assert _q(pg_url, "SELECT count(*) FROM notes")[0][0] == 0


def test_a_column_that_cannot_be_kept_is_refused_then_dropped_and_said_lost(pg_url, tmp_path):
    loose = "table: loose\ncolumns:\n  - {name: label, type: text}\n"
    write_yaml(tmp_path, "schemas/tables/loose.yaml", loose)
    assert run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve",
                   cwd=tmp_path).code == 0  # fmt: skip
    _q(pg_url, "INSERT INTO loose SELECT 'l' || g FROM generate_series(1, 10) g")
    write_yaml(tmp_path, "schemas/tables/loose.yaml", loose + "  - {name: note, type: text}\n")
    version = _history(tmp_path, pg_url)[0][0]
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    assert _history(tmp_path, pg_url)[0][0] != version
    _q(pg_url, "UPDATE loose SET note = 'n'")
    refused = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert refused.code == 1
    assert "column note of public.loose holds 10 values" in refused.err
    assert "cannot be kept" in refused.err
    done = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve",
                   "--allow-destructive", cwd=tmp_path)  # fmt: skip
    assert done.code == 0, done.text
    assert "are lost" in done.out
    assert _q(pg_url, "SELECT count(*) FROM loose")[0][0] == 10


def test_a_rollback_of_versions_that_would_restore_then_drop_data_is_refused(pg_url, tmp_path):
    _apply(tmp_path, pg_url, NOTES)
    write_yaml(tmp_path, "schemas/tables/extra.yaml", NOTES.replace("notes", "extra"))
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    with_extra = _history(tmp_path, pg_url)[0][0]
    _q(pg_url, "INSERT INTO extra (body) SELECT 'e' || g FROM generate_series(1, 10) g")
    rows = _digest(pg_url, "SELECT * FROM extra")
    (tmp_path / "schemas/tables/extra.yaml").unlink()
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve",
                "--allow-destructive", cwd=tmp_path)  # fmt: skip
    assert r.code == 0, r.text  # extra and its rows go to the trash

    both = run_cli("rollback", "--version", with_extra, "--pg", pg_url, "--auto-approve",
                   "--allow-destructive", cwd=tmp_path)  # fmt: skip
    assert both.code == 1, both.text
    assert "one version at a time" in both.err and "pg.table.public.extra" in both.err
    kept = run_cli("trash", "list", "--pg", pg_url, "--json", cwd=tmp_path)
    assert len(json.loads(kept.out)) == 1

    for _ in range(2):  # one at a time: back from the trash, then kept there again
        r = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve",
                    "--allow-destructive", cwd=tmp_path)  # fmt: skip
        assert r.code == 0, r.text
    again = run_cli("apply", with_extra, "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert again.code == 0, again.text
    assert _digest(pg_url, "SELECT * FROM extra") == rows


def test_applying_a_version_again_after_its_kept_rows_were_purged_is_refused(pg_url, tmp_path):
    version = _apply(tmp_path, pg_url, NOTES)
    _q(pg_url, "INSERT INTO notes (body) SELECT 'n' || g FROM generate_series(1, 20) g")
    r = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", "--allow-destructive",
                cwd=tmp_path)  # fmt: skip
    assert r.code == 0, r.text
    purge = run_cli("trash", "purge", "--older-than", "0s", "--pg", pg_url, "--auto-approve",
                    cwd=tmp_path)  # fmt: skip
    assert purge.code == 0 and f"{version} (applying it again)" in purge.out, purge.text
    refused = run_cli("apply", version, "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert refused.code == 1 and "trash purge" in refused.err and "empty" in refused.err
    assert _q(pg_url, "SELECT to_regclass('public.notes')")[0][0] is None
    done = run_cli("apply", version, "--pg", pg_url, "--auto-approve", "--allow-destructive",
                   cwd=tmp_path)  # fmt: skip
    assert done.code == 0, done.text
    assert _q(pg_url, "SELECT count(*) FROM notes")[0][0] == 0


def test_a_table_kept_twice_keeps_both_and_comes_back_with_its_own_names(
    pg_url, tmp_path, pg_dump_schema
):
    indexed = NOTES.replace("primary_key: [id]", "primary_key: [id]\nindexes:\n  - columns: [body]")
    counted = "  - {name: n, type: bigint, nullable: false, identity: by default}\n"
    first = _apply(
        tmp_path,
        pg_url,
        indexed.replace("  - {name: created_at", counted + "  - {name: created_at"),
    )
    schema = pg_dump_schema(pg_url)
    _q(pg_url, "INSERT INTO notes (body) VALUES ('first')")
    r = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", "--allow-destructive",
                cwd=tmp_path)  # fmt: skip
    assert r.code == 0, r.text
    second = run_cli("plan", "--pg", pg_url, "--schemas", "schemas", "--out", "plans",
                     cwd=tmp_path)  # fmt: skip
    assert second.code == 0, second.text
    again = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve",
                    cwd=tmp_path)  # fmt: skip
    assert again.code == 0, again.text
    _q(pg_url, "INSERT INTO notes (body) VALUES ('second')")
    # Its key, index and sequence are named as the first copy's in the trash were.
    r = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", "--allow-destructive",
                cwd=tmp_path)  # fmt: skip
    assert r.code == 0, r.text
    assert len(json.loads(run_cli("trash", "list", "--pg", pg_url, "--json",
                                  cwd=tmp_path).out)) == 2  # fmt: skip
    back = run_cli("apply", first, "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert back.code == 0, back.text
    assert _q(pg_url, "SELECT body FROM notes") == [("first",)]
    assert pg_dump_schema(pg_url) == schema  # the key, index and sequence by their own names


def test_a_rollback_that_would_narrow_values_is_refused_then_said(pg_url, tmp_path):
    narrow = (
        "table: prices\ncolumns:\n  - {name: id, type: int, nullable: false}\n"
        "  - {name: code, type: varchar(5)}\n  - {name: at, type: date}\nprimary_key: [id]\n"
    )
    wide = narrow.replace("varchar(5)", "text").replace("type: date", "type: timestamptz")
    for text in (narrow, wide):
        write_yaml(tmp_path, "schemas/tables/prices.yaml", text)
        r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve",
                    cwd=tmp_path)  # fmt: skip
        assert r.code == 0, r.text
    _q(pg_url, "INSERT INTO prices VALUES (1, 'abcdefghij', '2026-01-01 13:45+00')")
    row = _q(pg_url, "SELECT code, at::text FROM prices")
    refused = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert refused.code == 1, refused.text
    assert "would change data" in refused.err and "public.prices.code" in refused.err
    assert _q(pg_url, "SELECT code, at::text FROM prices") == row
    done = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", "--allow-destructive",
                   cwd=tmp_path)  # fmt: skip
    assert done.code == 0, done.text
    assert "changes 1 existing value of code" in done.out


def test_kept_values_whose_row_is_gone_stay_in_the_trash(pg_url, tmp_path):
    with_note = NOTES.replace("primary_key", TAG + "primary_key")
    _apply(tmp_path, pg_url, with_note)
    _q(
        pg_url,
        "INSERT INTO notes (body, tag) SELECT 'n' || g, 't' || g FROM generate_series(1, 4) g",
    )
    drop = _apply_allowing(tmp_path, pg_url, NOTES)  # tag's values go to the trash
    assert drop
    moved = _q(pg_url, "SELECT id FROM notes ORDER BY body LIMIT 1")[0][0]
    _q(pg_url, f"DELETE FROM notes WHERE id = '{moved}'")  # its kept value has no row now
    back = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", cwd=tmp_path)
    assert back.code == 0, back.text
    assert _q(pg_url, "SELECT count(tag) FROM notes")[0][0] == 3
    kept = json.loads(run_cli("trash", "list", "--pg", pg_url, "--json", cwd=tmp_path).out)
    assert [k["object"] for k in kept] == ["public.notes.tag"]  # the 4th value, not lost
    rows = _q(pg_url, f'SELECT tag FROM reconciler_trash."{kept[0]["name"].split(".")[1]}"')
    assert rows == [("t1",)]


def _apply_allowing(cwd: Path, pg_url: str, text: str) -> bool:
    write_yaml(cwd, "schemas/tables/notes.yaml", text)
    r = run_cli("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve",
                "--allow-destructive", cwd=cwd)  # fmt: skip
    assert r.code == 0, r.text
    return True


@pytest.mark.parametrize(
    "dependent",
    [
        "CREATE PUBLICATION pub_notes FOR TABLE notes",
        "CREATE STATISTICS notes_st ON id, tag FROM notes",
    ],
    ids=["publication", "statistics"],
)
def test_a_rollback_never_drops_what_an_unmodeled_object_needs(pg_url, tmp_path, dependent):
    _apply(tmp_path, pg_url, NOTES)
    _apply(tmp_path, pg_url, NOTES.replace("primary_key", TAG + "primary_key"))
    _q(pg_url, dependent)
    catalog = (
        "SELECT count(*) FROM pg_publication_rel UNION ALL SELECT count(*) FROM pg_statistic_ext"
    )
    before = _q(pg_url, catalog)
    for _ in range(2):  # the column's version, then the table's
        r = run_cli("rollback", "--last", "--pg", pg_url, "--auto-approve", "--force",
                    "--allow-destructive", cwd=tmp_path)  # fmt: skip
        if r.code:
            break
    assert r.code == 1, r.text
    assert "Reconciler does not manage" in r.err
    assert _q(pg_url, catalog) == before


def test_a_column_kept_while_the_primary_key_is_renamed_goes_and_comes_back(pg_url, tmp_path):
    """The values are kept by the primary key as the statement that copies them sees it: in
    a plan that also renames the key column, the copy runs once the rename is done (it used
    to select the new name before the rename, and every apply failed)."""
    before = (
        "table: items\ncolumns:\n  - {name: id, type: integer, nullable: false}\n"
        "  - {name: note, type: text}\n  - {name: k, type: integer, nullable: false}\n"
        "primary_key: [id]\n"
    )
    after = (
        "table: items\ncolumns:\n"
        "  - {name: item_id, type: integer, nullable: false, renamed_from: id}\n"
        "  - {name: k, type: integer, nullable: false}\nprimary_key: [item_id]\n"
    )
    write_yaml(tmp_path, "schemas/tables/items.yaml", before)
    argv = ("--pg", pg_url, "--schemas", "schemas", "--auto-approve")
    assert run_cli("apply", *argv, cwd=tmp_path).code == 0
    _q(pg_url, "INSERT INTO items SELECT g, 'n' || g, g + 1000 FROM generate_series(1, 50) g")
    rows = _digest(pg_url, "SELECT id, note, k FROM items")
    write_yaml(tmp_path, "schemas/tables/items.yaml", after)
    r = run_cli("apply", *argv, "--allow-destructive", cwd=tmp_path)
    assert r.code == 0, r.text
    columns = _q(pg_url, "SELECT attname FROM pg_attribute WHERE attrelid = 'items'::regclass "
                 "AND attnum > 0 AND NOT attisdropped ORDER BY attnum")  # fmt: skip
    assert [c for (c,) in columns] == ["item_id", "k"]
    back = run_cli("rollback", "--last", *argv[:2], "--auto-approve", cwd=tmp_path)
    assert back.code == 0, back.text
    assert _digest(pg_url, "SELECT id, note, k FROM items") == rows
