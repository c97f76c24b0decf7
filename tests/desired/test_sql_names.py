"""The functions SQL text calls (sql/names.py), read from the parse tree: every call however deep,
its schema when written, the pg_catalog function behind special syntax."""

from __future__ import annotations

from reconciler.sql.names import called_name, calls


def test_calls_in_an_expression_at_any_depth():
    found = calls("coalesce(s.f(g(1)), lower(x)) + extract(year from now())")
    assert found == {
        ("s", "f"),
        (None, "g"),
        (None, "lower"),
        ("pg_catalog", "extract"),
        (None, "now"),
    }


def test_calls_in_a_query_with_subqueries_windows_and_ordering():
    query = (
        "SELECT a, row_number() OVER (ORDER BY upper(b)) FROM t "
        "WHERE c IN (SELECT app.norm(d) FROM u) ORDER BY coalesce(e, length(f))"
    )
    assert calls(query, query=True) == {
        (None, "row_number"),
        (None, "upper"),
        ("app", "norm"),
        (None, "length"),
    }


def test_text_without_calls_or_not_sql_gives_none():
    assert calls("a + 1") == set()
    assert calls("(((") == set()


def test_a_bare_function_name():
    assert called_name("audit.touch") == ("audit", "touch")
    assert called_name("touch") == (None, "touch")
