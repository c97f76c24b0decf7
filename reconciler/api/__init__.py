"""The library: every use case the command line offers, one function each.

The CLI parses its options, calls one of these and renders what it returns; a Python caller gets
the same behaviour without it (the same checks, the same project scope from reconciler.yaml).

- runs.py: plan(), apply() — the plan/apply pipeline under the locks; rollbacks.py: rollback();
- project.py: validate(), gen_ddl(), schema_json(), init(), show() — the project's files alone;
- export.py: export_pg(), export_redis() — live servers written out as YAML;
- drift.py: drift(); check.py: check(); rollback_check.py: rollback_check();
- servers.py: backup(), restore(), redis_health(), and the dev servers (dev_up(), ...);
- records.py: what the state, the locks and the trash hold (state_*, lock_*, trash_*);
- fleet.py: plan, apply and drift over every database of a fleet environment.

The package itself re-exports runs.py and rollbacks.py (`api.plan`, `api.apply`,
`api.rollback`, the last loaded on first use); the other modules are imported by name, so a
command loads only the use case it runs.

Must not: print, prompt or exit: results are values, failures ReconcilerError sentences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.api.runs import (
    PlanResult,
    Timeouts,
    apply,
    check_destructive,
    plan,
)

if TYPE_CHECKING:
    from reconciler.api.rollbacks import RollbackResult, rollback


def __getattr__(name: str) -> Any:
    """`api.rollback` and `api.RollbackResult`, loaded on first use: a plan or an apply loads
    nothing of rollbacks.py (the rollback gate's modules)."""
    if name in ("rollback", "RollbackResult"):
        from reconciler.api import rollbacks  # deferred: start-up: as above

        return getattr(rollbacks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PlanResult",
    "RollbackResult",
    "Timeouts",
    "apply",
    "check_destructive",
    "plan",
    "rollback",
]
