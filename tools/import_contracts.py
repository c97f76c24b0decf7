"""An import-linter contract: every import made inside a function is one the contract names.

An import inside a function hides a dependency from the module's head (and, between packages,
often a cycle). The only good reason for one is start-up time: `reconciler --help` or a
Redis-only run should not load psycopg, pglast or pydantic. So each is listed in the contract as

    "IMPORTER -> IMPORTED: reason"

with shell-style globs on dotted module names (`reconciler.cli.* -> reconciler.api: …`). An
import inside a function that no entry allows breaks the contract; so does an entry that allows
nothing any more (the list stays true) or one without a reason.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from fnmatch import fnmatchcase

import grimp
from importlinter import Contract, ContractCheck, fields, output


@dataclass(frozen=True)
class _Allowance:
    importer: str
    imported: str
    reason: str
    text: str

    def allows(self, importer: str, imported: str) -> bool:
        return fnmatchcase(importer, self.importer) and (
            fnmatchcase(imported, self.imported) or imported.startswith(self.imported + ".")
        )


def _parse(entry: str) -> _Allowance | str:
    head, sep, reason = entry.partition(":")
    importer, arrow, imported = head.partition("->")
    if not sep or not arrow or not reason.strip():
        return f"`{entry}`: write it as `IMPORTER -> IMPORTED: reason`."
    return _Allowance(importer.strip(), imported.strip(), reason.strip(), entry)


def _deferred(module: str, graph: grimp.ImportGraph) -> list[tuple[int, str]]:
    """(line, imported module) of every import inside a function of `module`."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return []
    with open(spec.origin, encoding="utf-8") as f:
        tree = ast.parse(f.read(), spec.origin)
    package = module if spec.submodule_search_locations else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if in_function and isinstance(child, ast.Import):
                found.extend((child.lineno, a.name) for a in child.names)
            elif in_function and isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - child.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for a in child.names:
                    sub = f"{base}.{a.name}"
                    found.append((child.lineno, sub if sub in graph.modules else base))
            visit(child, inside)

    visit(tree, False)
    return found


class DeferredImportsContract(Contract):
    """type = deferred_imports; containers: packages to scan; allowed: the named exceptions."""

    type_name = "deferred_imports"

    containers = fields.ListField(subfield=fields.StringField())
    allowed = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        problems: list[str] = []
        allowances = []
        for entry in self.allowed or []:
            parsed = _parse(entry)
            if isinstance(parsed, str):
                problems.append(parsed)
            else:
                allowances.append(parsed)
        used: set[_Allowance] = set()
        modules = sorted(
            m for m in graph.modules for c in self.containers if m == c or m.startswith(c + ".")
        )
        for module in modules:
            for line, imported in _deferred(module, graph):
                match = next((a for a in allowances if a.allows(module, imported)), None)
                if match is None:
                    problems.append(f"{module}:{line} imports {imported} inside a function.")
                else:
                    used.add(match)
        problems += [f"`{a.text}` allows no import any more." for a in allowances if a not in used]
        problems = list(dict.fromkeys(problems))
        return ContractCheck(kept=not problems, metadata={"problems": problems})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for problem in check.metadata["problems"]:
            output.print_error(problem, bold=False)
            output.new_line()
        output.print(
            "Move the import to the module's head, or name it in the contract with the reason it "
            "must wait (start-up time)."
        )
