"""examples/ stays true: its YAML loads, every `reconciler …` command line it holds names
commands and options that exist, and the alert rules use the metrics drift writes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from reconciler.api.drift import DriftReport, metrics_text
from reconciler.api.fleet import targets
from reconciler.cli.reference import _commands
from reconciler.project.config import environment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# `reconciler` followed by what it is given, up to a shell operator or the end of the line.
_COMMAND = re.compile(r"(?<![\w./-])reconciler((?:[ \t]+[^\s|;&>`'\"]+)+)")


def _files() -> list[Path]:
    return sorted(p for p in EXAMPLES.rglob("*") if p.is_file())


def _cli():
    return _commands()


def _options(command) -> dict[str, bool]:
    """--option → whether it takes a value."""
    out = {}
    for param in command.params:
        for opt in (*param.opts, *getattr(param, "secondary_opts", ())):
            if opt.startswith("-"):
                out[opt] = not getattr(param, "is_flag", False)
    return out


def _check(argv: list[str], root) -> None:
    command, i = root, 0
    while True:
        options = _options(command)
        while i < len(argv) and argv[i].startswith("-"):
            name = argv[i].split("=", 1)[0]
            assert name in options, f"{command.name}: no option {name} (in {argv})"
            i += 1 + (options[name] and "=" not in argv[i])
        if not hasattr(command, "commands"):
            break
        assert i < len(argv), f"no command after {argv}"
        assert argv[i] in command.commands, f"no command {argv[i]!r} (in {argv})"
        command, i = command.commands[argv[i]], i + 1
    for token in argv[i:]:
        if token.startswith("-"):
            assert token.split("=", 1)[0] in _options(command), f"{command.name}: {token} ({argv})"


def _command_lines() -> list[tuple[Path, list[str]]]:
    found = []
    for path in _files():
        for m in _COMMAND.finditer(path.read_text(encoding="utf-8")):
            words = shlex.split(m.group(1))
            if words and (words[0].startswith("-") or words[0].isalpha() or "-" in words[0]):
                found.append((path, words))
    return found


@pytest.mark.parametrize("path", [p for p in _files() if p.suffix in (".yml", ".yaml")],
                         ids=lambda p: str(p.relative_to(EXAMPLES)))  # fmt: skip
def test_every_yaml_example_loads(path):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and doc


def test_every_command_line_names_real_commands_and_options():
    lines = _command_lines()
    kinds = {words[0] if not words[0].startswith("-") else words[2] for _, words in lines}
    assert {"plan", "apply", "drift", "validate", "check"} <= kinds, kinds
    root = _cli()
    for path, words in lines:
        try:
            _check(words, root)
        except AssertionError as exc:
            raise AssertionError(f"{path.relative_to(ROOT)}: {exc}") from None


def test_the_checker_can_fail():
    root = _cli()
    with pytest.raises(AssertionError):
        _check(["plan", "--no-such-option"], root)
    with pytest.raises(AssertionError):
        _check(["deploy"], root)


def test_the_alert_rules_use_the_metrics_drift_writes():
    report = DriftReport(desired=[{"engine": "pg", "kind": "table"}], last_apply=1.0)
    written = set(re.findall(r"^(reconciler_\w+)", metrics_text(report), re.M))
    rules = yaml.safe_load((EXAMPLES / "prometheus/reconciler-drift.rules.yml").read_text())
    used = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            used |= set(re.findall(r"reconciler_\w+", rule["expr"]))
    assert used and used <= written, used - written


def test_the_fleet_example_is_a_valid_fleet(monkeypatch):
    for name in ("EU_PG_BASE", "US_PG_BASE", "SHARD_01_URL", "SHARD_02_URL"):
        monkeypatch.setenv(name, f"postgresql://app@10.0.0.1/{name.lower()}")
    monkeypatch.setenv("FLEET_REGISTRY_URL", "postgresql://app@10.0.0.9/registry")
    monkeypatch.setenv("RECONCILER_ENV", "tenants")
    env = environment(EXAMPLES / "fleet")
    assert env is not None and env.fleet is not None and env.settings["canary"] == "1"
    assert [t.name for t in targets(env.fleet)] == ["eu-tenant-a", "eu-tenant-b", "us-tenant-c"]
    monkeypatch.setenv("RECONCILER_ENV", "shards")
    env = environment(EXAMPLES / "fleet")
    assert [t.name for t in targets(env.fleet)] == ["shard-01", "shard-02"]
    monkeypatch.setenv("RECONCILER_ENV", "registry")
    assert environment(EXAMPLES / "fleet").fleet.query.startswith("SELECT name, dsn")
