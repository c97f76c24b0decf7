"""docs/yaml-reference.md names every key the loader accepts: each field of every model of
desired/spec.py and desired/keyspec.py (by its YAML spelling) appears in the page, as `key` in
the text or as a key of one of its YAML examples."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from reconciler.desired import keyspec, spec

PAGE = Path(__file__).resolve().parents[2] / "docs" / "yaml-reference.md"


def _models() -> list[type[BaseModel]]:
    out = []
    for module in (spec, keyspec):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.model_fields:
                out.append(value)
    return out


def _keys() -> dict[str, set[str]]:
    """YAML key → the models that have it."""
    keys: dict[str, set[str]] = {}
    for model in _models():
        for name, field in model.model_fields.items():
            keys.setdefault(field.alias or name, set()).add(model.__name__)
    return keys


def test_every_yaml_key_is_in_the_reference():
    text = PAGE.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)(?::[^`]*)?`", text))  # `key` or `key: value`
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        documented |= set(re.findall(r"(?:^|[\s{,-])([a-z_]+):(?:\s|$)", block, re.M))
    missing = {key: sorted(models) for key, models in _keys().items() if key not in documented}
    assert not missing, f"keys the loader accepts that {PAGE.name} does not name: {missing}"


def test_the_check_can_fail():
    assert len(_models()) > 20
    assert "partition_by" in _keys() and "password_env" in _keys()
    assert "no_such_key" not in _keys()
