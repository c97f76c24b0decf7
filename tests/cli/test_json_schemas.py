"""The documented JSON Schemas (docs/json/) describe what the tool really reads and writes:
the YAML files' schemas are generated from the loader's models and accept the example project;
plan, drift and state outputs of real runs validate against theirs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from reconciler.api.project import SCHEMA_KINDS as KINDS
from reconciler.cli.project_cmds import render
from tests.helpers import run_cli, write_yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "json"
EXAMPLE = ROOT / "schemas"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    """The schema `name` of docs/json, with the others there to resolve its `$ref`s."""
    from referencing import Registry, Resource

    schemas = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(DOCS.glob("*.json"))]
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas if "$id" in s
    )
    schema = json.loads((DOCS / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, registry=registry, format_checker=jsonschema.FormatChecker()
    )


def errors(name: str, doc: object) -> list[str]:
    """Why `doc` does not validate against docs/json/`name` (empty: it does)."""
    return [f"{list(e.absolute_path)}: {e.message}" for e in _validator(name).iter_errors(doc)]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_committed_yaml_schemas_are_the_generated_ones(kind):
    assert (DOCS / KINDS[kind]).read_text(encoding="utf-8") == render(kind), (
        f"docs/json/{KINDS[kind]} is stale: run `reconciler schema-json --out docs/json`"
    )


def test_every_example_file_validates_against_its_yaml_schema():
    files = sorted(EXAMPLE.rglob("*.yaml"))
    assert files
    for path in files:
        kind = "keys" if "keys" in path.relative_to(EXAMPLE).parts else "tables"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert errors(KINDS[kind], doc) == [], path


def test_the_yaml_schema_rejects_what_validate_rejects(tmp_path):
    bad = {"table": "users", "columns": [{"name": "id", "type": "uuid", "nulable": False}]}
    assert errors(KINDS["tables"], bad)  # the misspelt key is an error in the editor too
    write_yaml(tmp_path / "s", "tables/users.yaml", yaml.safe_dump(bad))
    r = run_cli("validate", "--schemas", str(tmp_path / "s"))
    assert r.code == 1 and "nulable" in r.err
    assert errors(KINDS["keys"], {"patterns": [{"pattern": "a:{id}", "type": "blob"}]})


def test_plan_drift_and_history_outputs_validate(pg_url, redis_url, redis_prefix, tmp_path):
    plans = tmp_path / "plans"
    both = ["--pg", pg_url]
    r = run_cli("plan", *both, "--schemas", str(EXAMPLE), "--out", str(plans), "--json")
    assert r.code == 0, r.text
    out = json.loads(r.out)
    assert errors("plan.v1.schema.json", out) == []
    (saved,) = plans.glob("*.plan.json")
    assert errors("plan.v1.schema.json", json.loads(saved.read_text())) == []

    r = run_cli("drift", *both, "--schemas", str(EXAMPLE), "--json")
    assert r.code == 2, r.text  # nothing applied yet: drift
    drift = json.loads(r.out)
    assert drift["desired"] and errors("drift.v1.schema.json", drift) == []

    r = run_cli("apply", *both, "--plan", str(saved), "--auto-approve", cwd=tmp_path)
    assert r.code == 0, r.text
    r = run_cli("state", "history", *both, "--json")
    history = json.loads(r.out)
    assert len(history) == 1 and errors("state-history.v1.schema.json", history) == []
    r = run_cli("drift", *both, "--schemas", str(EXAMPLE), "--json")
    assert r.code == 0 and errors("drift.v1.schema.json", json.loads(r.out)) == []


def test_the_output_schemas_can_fail():
    assert errors("plan.v1.schema.json", {"format_version": 2})
    assert errors("drift.v1.schema.json", {"format_version": 1, "drift": "yes"})
    assert errors("state-history.v1.schema.json", [{"version": "x"}])
