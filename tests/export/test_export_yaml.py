"""The export writes YAML with libyaml's emitter when it is there: the text must be exactly
what the pure-Python emitter writes, so exports do not depend on how PyYAML was built."""

from __future__ import annotations

import yaml

from reconciler.export.pg import yamlfile as export

TRICKY = [
    "plain",
    "with: colon",
    "- leading dash",
    "trailing space ",
    "tab\there",
    "multi\nline\ntext",
    "multi\nline with trailing space \n",
    "ünïcödé ✓ 名前",
    "'quoted' and \"double\"",
    "a" * 150,
    " ".join(["word"] * 40),
    "#not a comment",
    "yes",
    "null",
    "0123",
    "",
]


def _doc() -> dict:
    return {
        "table": "t",
        "comment": "One line.",
        "columns": [
            {"name": f"c{i}", "type": "text", "comment": text} for i, text in enumerate(TRICKY)
        ],
        "views": [{"name": f"v{i}", "query": export.Block(text)} for i, text in enumerate(TRICKY)],
        "numbers": [0, 1.5, True, None],
    }


def test_libyaml_and_python_emitters_write_the_same_text():
    assert export.DUMPER is not yaml.SafeDumper, "PyYAML here has no libyaml: nothing to compare"
    options = {"sort_keys": False, "allow_unicode": True, "width": 100}
    fast = yaml.dump(_doc(), Dumper=export.DUMPER, **options)
    slow = yaml.dump(_doc(), Dumper=yaml.SafeDumper, **options)
    assert fast == slow
    assert yaml.safe_load(fast)["views"][5]["query"] == "multi\nline\ntext"
