"""docs/cli.md is what the commands say about themselves, and every command shows an example."""

from __future__ import annotations

from pathlib import Path

from reconciler.cli.reference import _commands, render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_the_cli_reference_is_generated_from_the_commands():
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: run `python -m reconciler.cli.reference > docs/cli.md`"
    )


def _leaves(command, path=()):
    subs = getattr(command, "commands", None)
    if not subs:
        yield " ".join(path), command
        return
    for name, sub in subs.items():
        yield from _leaves(sub, (*path, name))


def test_every_command_help_shows_an_example():
    missing = [name for name, cmd in _leaves(_commands()) if "Example" not in (cmd.help or "")]
    assert not missing, f"commands whose --help has no example: {missing}"
