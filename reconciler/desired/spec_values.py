"""The checks and conversions the YAML value kinds apply, without pydantic: spec_base.py
builds the pydantic value kinds from them, and fastspec.py runs them itself on the files it
reads without pydantic. Each raises ValueError with the sentence a user is shown.

Owns: those functions (and the one check that spans two keys of an index element).
Must not: import pydantic (a plan of valid files never loads it).
"""

from __future__ import annotations

from typing import Any

from reconciler.project.yamlvalues import BoolText
from reconciler.sql.fragments import name_problem


def ident(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def yaml_bool(value: Any) -> Any:
    return value.value if isinstance(value, BoolText) else value


def sql_text(value: Any) -> Any:
    """YAML booleans in SQL positions become SQL booleans (`yes` → true)."""
    if isinstance(value, BoolText):
        return "true" if value.value else "false"
    return value


def words(value: Any) -> Any:
    """'SET  NULL' → 'set null': keywords are case- and spacing-insensitive."""
    return " ".join(value.lower().split()) if isinstance(value, str) else value


def non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("holds a NUL character (\\0), which PostgreSQL text cannot store")
    return value


def int_text(value: Any) -> Any:
    """A whole number written as text is kept as that text (`cost: 100` → "100")."""
    return str(value) if isinstance(value, int) else value


def lower(value: str) -> str:
    return value.lower()


def one_target(element: Any) -> None:
    """An index element names a column or gives an expression, never both or neither (a check
    of a whole model: it is given the model, or fastspec.py's Parsed)."""
    if (element.column is None) == (element.expression is None):
        raise ValueError("give exactly one of 'column' or 'expression'")
