"""Collations from YAML: read back as pg_collation holds them, created before what names them,
dropped after it, redefined by a drop and a create (refused under an object that keeps using
it), rolled back exactly."""

from __future__ import annotations

import json

from tests.helpers import run_cli, write_yaml

COLLATIONS = """
collations:
  - name: app.numeric
    provider: icu
    locale: en-u-kn-true
    comment: numbers by value
  - {name: app.bytes, lc_collate: POSIX, lc_ctype: POSIX}
  - {name: app.mixed, lc_collate: C, lc_ctype: C.UTF-8}
"""

TABLE = """
table: items
schema: app
columns:
  - {name: code, type: text, collation: app.numeric}
  - {name: raw, type: text, collation: app.bytes}
indexes:
  - {columns: [{column: code, collation: app.mixed}]}
"""


def _cli(tmp, *args):
    r = run_cli(*args, cwd=tmp)
    assert r.code == 0, r.text
    return r


def test_collations_round_trip(pg_url, pg_conn, tmp_path, pg_dump_schema):
    root = tmp_path / "schemas"
    write_yaml(root, "collations.yaml", COLLATIONS)
    write_yaml(root, "tables/items.yaml", TABLE)
    r = _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root), "--json")
    order = [c["address"] for c in json.loads(r.out)["changes"]]
    for name in ("numeric", "bytes", "mixed"):
        assert order.index(f"pg.collation.app.{name}") < order.index("pg.table.app.items")
    before = pg_dump_schema(pg_url)
    _cli(tmp_path, "apply", "--pg", pg_url, "--schemas", str(root), "--auto-approve")
    # lc_collate and lc_ctype that are one read back as one locale: nothing left to do
    assert "No changes." in _cli(tmp_path, "plan", "--pg", pg_url, "--schemas", str(root)).out
    row = pg_conn.execute(
        "SELECT collprovider, collisdeterministic FROM pg_collation WHERE collname = 'numeric'"
    ).fetchone()
    assert row == ("i", True)

    _cli(tmp_path, "export", "--pg", pg_url, "--out", "exported")
    exported = (tmp_path / "exported" / "collations.yaml").read_text(encoding="utf-8")
    assert "locale: POSIX" in exported and "lc_ctype: C.UTF-8" in exported

    _cli(tmp_path, "rollback", "--pg", pg_url, "--last", "--auto-approve")
    assert pg_dump_schema(pg_url) == before


def test_a_collation_in_use_is_not_redefined(pg_url, pg_conn, tmp_path, pg_dump_schema):
    pg_conn.execute("CREATE SCHEMA app")
    pg_conn.execute("CREATE COLLATION app.numeric (provider = icu, locale = 'en-u-kn-true')")
    pg_conn.execute("CREATE TABLE app.items (code text COLLATE app.numeric)")
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "collations.yaml",
        "collations:\n  - {name: app.numeric, provider: icu, locale: de-u-kn-true}\n",
    )
    write_yaml(
        root,
        "tables/items.yaml",
        "table: items\nschema: app\ncolumns: [{name: code, type: text, collation: app.numeric}]\n",
    )
    before = pg_dump_schema(pg_url)
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    assert "Collation app.numeric cannot be redefined while column app.items.code" in r.err
    assert "collations.yaml:2" in r.err
    assert pg_dump_schema(pg_url) == before


def test_collation_specs_are_checked(pg_url, tmp_path):
    root = tmp_path / "schemas"
    write_yaml(
        root,
        "collations.yaml",
        "collations:\n"
        "  - {name: a, locale: C, lc_collate: C, lc_ctype: C}\n"
        "  - {name: b, lc_collate: C}\n"
        "  - {name: c, provider: icu, lc_collate: und, lc_ctype: und}\n"
        "  - {name: f, locale: C, deterministic: false}\n"
        "  - {name: e, locale: C}\n"
        "  - {name: public.e, locale: POSIX}\n",
    )
    write_yaml(root, "provider.yaml", "collations:\n  - {name: d, provider: glibc, locale: C}\n")
    r = run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)
    assert r.code == 1, r.text
    for line in (2, 3, 4, 5, 7):
        assert f"collations.yaml:{line}" in r.err, r.err
    assert "declared twice" in r.err
    assert "only an ICU collation can be nondeterministic" in r.err
    assert "provider.yaml:2: collations[0].provider: must be 'libc', 'icu' or 'builtin'" in r.err
