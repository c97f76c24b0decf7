"""desired/fastspec.py reads valid PostgreSQL files without pydantic: its table must be the
models' own, and wherever it reads a document it must read it exactly as spec.py's pydantic
models do (same values, same types, same keys counted as given) — on every YAML file of the
repository and on documents generated from the table, valid or not. Where it cannot, it gives
up and pydantic decides, so a file it reads wrongly is the only way it could change a plan."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from reconciler.desired import fastspec, load
from reconciler.desired.fastspec_table import MODELS
from reconciler.desired.spec import FileSpec
from reconciler.project.yamlload import BoolText, YamlError, load_bytes
from tools import fastspec_table

ROOT = Path(__file__).resolve().parents[2]


def plain(value: Any) -> Any:
    """A model's values (either reader's) as comparable data, types of the leaves kept."""
    if isinstance(value, fastspec.Parsed):
        fields = {k: v for k, v in vars(value).items() if k != "model_fields_set"}
        return ("model", {k: plain(v) for k, v in fields.items()}, set(value.model_fields_set))
    if isinstance(value, BaseModel):
        names = type(value).model_fields
        return ("model", {k: plain(getattr(value, k)) for k in names}, set(value.model_fields_set))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [plain(v) for v in value])
    if isinstance(value, dict):
        return ("dict", {k: plain(v) for k, v in value.items()})
    return (type(value).__name__, value)


def by_pydantic(data: Any) -> FileSpec | None:
    try:
        return FileSpec.model_validate(data)
    except ValidationError:
        return None


def agrees(data: Any) -> bool:
    """Whether the fast reader read `data` (the assertion: then exactly as pydantic)."""
    fast = fastspec.read_file(data)
    if fast is None:
        return False
    slow = by_pydantic(data)
    assert slow is not None, f"the fast reader took a document pydantic refuses: {data!r}"
    assert plain(fast) == plain(slow), data
    return True


def test_the_table_is_the_models_own():
    committed = fastspec_table.TABLE.read_text(encoding="utf-8")
    assert committed == fastspec_table.render(), "run `python -m tools.fastspec_table`"


def _repository_yaml() -> list[Path]:
    files = subprocess.run(
        ["git", "ls-files", "*.yaml", "*.yml"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    return [ROOT / f for f in files if "/keys/" not in f and not f.startswith(".")]


def test_every_yaml_file_of_the_repository_is_read_as_pydantic_reads_it():
    read = valid = 0
    for path in _repository_yaml():
        try:
            data = load_bytes(path.read_bytes()).data
        except YamlError:
            continue
        valid += by_pydantic(data) is not None
        read += agrees(data)
    assert valid > 100, "the repository's schema files were not found"
    assert read >= 0.9 * valid, f"the fast reader read only {read} of {valid} valid files"


# --- documents generated from the table, valid and not -------------------------------------

_TEXTS = st.sampled_from(
    ["id", "users", "Users", "a.b", "now()", "x y", "", "  ", "a\0b", "é" * 30, "n" * 64, "btree"]
)
_BOOLS = st.sampled_from(["yes", "No", "on", "OFF", "true", "False", "y"]).map(BoolText)
_ODD = st.sampled_from([None, "true", 1, [], {}, ["a"], {"a": "b"}])
_STRAY_KEYS = st.sampled_from(["schema_", "from_", "unknown", "Name"])  # names, not keys


def _value(kind: tuple, depth: int) -> st.SearchStrategy[Any]:
    tag = kind[0]
    if tag == "str":
        return st.one_of(_TEXTS, _BOOLS, _ODD)
    if tag in ("bool", "int"):
        return st.one_of(_BOOLS, _TEXTS, _ODD)
    if tag == "literal":
        words = st.sampled_from(list(kind[2]))
        spelled = words.map(lambda w: f"  {w.upper()} ")
        return st.one_of(words, spelled, _BOOLS, _TEXTS, _ODD)
    if tag == "list":
        return st.one_of(st.lists(_value(kind[1], depth), max_size=3), _ODD)
    if tag == "dict":
        keys = st.one_of(_TEXTS, st.sampled_from(["fillfactor", "search_path"]))
        return st.one_of(st.dictionaries(keys, _value(kind[2], depth), max_size=3), _ODD)
    if tag == "opt":
        return st.one_of(st.none(), _value(kind[1], depth))
    if tag == "union":
        return st.one_of(*(_value(k, depth) for k in kind[1]))
    if tag == "model":
        return _document(kind[1], depth + 1)
    raise AssertionError(kind)


def _document(model: str, depth: int = 0) -> st.SearchStrategy[Any]:
    shorthand, shorthand_list, _, fields = MODELS[model]
    if depth > 3:
        return _ODD
    entries = {key: _value(kind, depth) for key, _, kind, _, _ in fields}
    required = [key for key, _, _, req, _ in fields if req]
    mapping = st.builds(
        lambda picked, values, odd: {
            **{k: values[k] for k in picked if k in values},
            **odd,
        },
        st.sets(st.sampled_from(list(entries)), max_size=6).map(lambda s: {*s, *required}),
        st.fixed_dictionaries(entries),
        st.dictionaries(_STRAY_KEYS, _TEXTS, max_size=1),
    )
    choices = [mapping]
    if shorthand:
        choices.append(_TEXTS | _BOOLS)
    if shorthand_list:
        choices.append(st.lists(_TEXTS, max_size=3))
    return st.one_of(*choices)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_document("FileSpec"))
def test_generated_documents_are_read_as_pydantic_reads_them_or_left_to_it(data: Any):
    agrees(data)


def test_index_elements_need_one_target_in_both_readers():
    both = {"table": "t", "indexes": [{"columns": [{"column": "a", "expression": "lower(b)"}]}]}
    neither = {"table": "t", "indexes": [{"columns": [{"order": "desc"}]}]}
    one = {"table": "t", "indexes": [{"columns": ["a", {"expression": "lower(b)"}]}]}
    assert fastspec.read_file(both) is None and by_pydantic(both) is None
    assert fastspec.read_file(neither) is None and by_pydantic(neither) is None
    assert agrees(one)


def test_a_value_two_union_branches_take_is_left_to_pydantic():
    # `on` in a storage option is text to one branch and a boolean to another: pydantic picks
    data = {"table": "t", "options": {"autovacuum_enabled": BoolText("on")}}
    assert fastspec.read_file(data) is None
    assert by_pydantic(data).options == {"autovacuum_enabled": True}


# --- the whole load -------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["schemas", "tests/fixtures"])
def test_a_load_gives_the_same_model_with_and_without_the_fast_reader(
    folder: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("RECONCILER_NO_CACHE", "1")
    roots = [ROOT / folder] if folder == "schemas" else sorted((ROOT / folder).glob("*/"))
    compared = 0
    for root in roots:
        if not list(root.rglob("*.yaml")):
            continue
        fast = _load_or_error(root)
        with monkeypatch.context() as m:
            m.setattr(fastspec, "read_file", lambda data: None)
            slow = _load_or_error(root)
        assert fast == slow, root
        compared += 1
    assert compared


def _load_or_error(root: Path) -> Any:
    try:
        d = load(root)
    except Exception as exc:  # the same error, with the same problems, from both
        return (type(exc).__name__, str(exc), [str(p) for p in getattr(exc, "problems", ())])
    return (d.pg, d.redis, d.lint_ignores)


def test_a_plan_of_valid_files_never_imports_pydantic(tmp_path: Path):
    (tmp_path / "users.yaml").write_text(
        "table: users\ncolumns:\n  - {name: id, type: bigint, nullable: false}\n"
        "  - {name: email, type: text}\nprimary_key: [id]\n"
        "indexes:\n  - {columns: [email], unique: true}\n",
        encoding="utf-8",
    )
    code = (
        "import sys; from pathlib import Path; from reconciler.desired import load; "
        f"load(Path({str(tmp_path)!r})); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic' or m in "
        "{'reconciler.desired.spec', 'reconciler.desired.spec_base', "
        "'reconciler.desired.spec_table', 'reconciler.desired.keyspec'}))"
    )
    env = {**os.environ, "RECONCILER_NO_CACHE": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
