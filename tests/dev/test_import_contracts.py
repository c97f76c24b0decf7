"""The deferred-imports contract (tools/import_contracts.py) that `make lint` checks: an import
inside a function breaks it unless an entry names it, and an entry that allows nothing does too."""

from __future__ import annotations

import grimp

from tools.import_contracts import DeferredImportsContract


def _check(allowed: list[str]) -> tuple[bool, list[str]]:
    graph = grimp.build_graph("deferredpkg", cache_dir=None)
    contract = DeferredImportsContract(
        "deferred", {}, {"containers": ["deferredpkg"], "allowed": allowed}
    )
    check = contract.check(graph, verbose=False)
    return check.kept, check.metadata["problems"]


def _package(tmp_path, monkeypatch) -> None:
    pkg = tmp_path / "deferredpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "b.py").write_text("")
    (pkg / "a.py").write_text(
        "import json\n\n\ndef f():\n    from deferredpkg import b\n\n    return b, json\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def test_an_unnamed_import_inside_a_function_breaks_the_contract(tmp_path, monkeypatch):
    _package(tmp_path, monkeypatch)
    kept, problems = _check([])
    assert not kept
    assert problems == ["deferredpkg.a:5 imports deferredpkg.b inside a function."]


def test_a_named_one_keeps_it_and_a_stale_or_reasonless_entry_breaks_it(tmp_path, monkeypatch):
    _package(tmp_path, monkeypatch)
    assert _check(["deferredpkg.a -> deferredpkg.b: start-up"]) == (True, [])
    kept, problems = _check(["deferredpkg.* -> deferredpkg.b: start-up", "x -> json: y"])
    assert not kept and problems == ["`x -> json: y` allows no import any more."]
    kept, problems = _check(["deferredpkg.a -> deferredpkg.b"])
    assert not kept and "write it as `IMPORTER -> IMPORTED: reason`" in problems[0]
