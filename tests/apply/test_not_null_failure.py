"""A column that cannot become NOT NULL because rows hold NULL: the error names the column as
the user wrote it and how many rows hold NULL, never the internal check constraint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli, write_yaml

TAGS = """\
table: tags
columns:
  - {name: id, type: integer, nullable: false}
  - {name: label, type: LABEL_TYPE, nullable: false}
primary_key: [id]
"""


@pytest.mark.parametrize("label_type", ["text", "varchar(20)"], ids=["online", "with-type"])
def test_not_null_on_null_rows_names_column_and_count(pg_url, pg_conn, tmp_path: Path, label_type):
    pg_conn.execute("CREATE TABLE public.tags (id int PRIMARY KEY, label text)")
    pg_conn.execute(
        "INSERT INTO public.tags SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'x' END "
        "FROM generate_series(1, 30) g"
    )
    write_yaml(tmp_path, "schemas/tables/tags.yaml", TAGS.replace("LABEL_TYPE", label_type))
    r = run_cli(
        "apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", cwd=tmp_path
    )  # fmt: skip
    assert r.code == 1, r.text
    error = r.err.splitlines()[0]
    assert "public.tags.label has NULL in 10 rows, so it cannot be NOT NULL" in error
    assert 'WHERE "label" IS NULL' in error
    assert "reconciler_nn_" not in r.err
    nullable = pg_conn.execute(
        "SELECT is_nullable FROM information_schema.columns "
        "WHERE table_name = 'tags' AND column_name = 'label'"
    ).fetchone()
    assert nullable == ("YES",)  # nothing was changed
