"""Default privileges (ALTER DEFAULT PRIVILEGES): for every (creating role, schema, kind,
grantee) the desired state declares, what the grantee is given is made what it says. One it
does not declare is left alone, unless it is in a schema that says `privileges: exact` or is
database-wide while some schema says it (what a role creates there gets it too): then the
grantee is given what it would be without it. A schema the plan drops takes its own with it."""

from __future__ import annotations

from dataclasses import replace

from reconciler.diff.context import DiffContext
from reconciler.model.pg_objects import DefaultGrant
from reconciler.model.snapshot import PgSnapshot
from reconciler.ops.base import Action, Change
from reconciler.ops.pg.default_grant import ChangeDefaultGrant, DefaultGrantsGoWith


def _exact(desired: PgSnapshot, d: DefaultGrant) -> bool:
    exact = {name for name, s in desired.schemas.items() if s.privileges == "exact"}
    return d.schema in exact if d.schema else bool(exact)


def _unset(d: DefaultGrant) -> DefaultGrant:
    return replace(d, privileges=d.default_holding(), grantable=(), source=None)


def default_grants_after(ctx: DiffContext) -> dict[tuple[str, str, str, str], DefaultGrant]:
    """The default privileges in force once the plan's changes to them have run."""
    out = {
        key: d
        for key, d in ctx.live.default_grants.items()
        if key in ctx.desired.default_grants or not _exact(ctx.desired, d)
    }
    return out | ctx.desired.default_grants


def compare_default_grants(ctx: DiffContext, changes: list[Change]) -> list[Change]:
    live, desired = ctx.live.default_grants, ctx.desired.default_grants
    dropped = {
        c.address.parts[2] for c in changes if c.action is Action.DROP and c.kind == "schema"
    }
    new_schemas = tuple(sorted(set(ctx.desired.schemas) - set(ctx.live.schemas)))
    kept = tuple(sorted(ctx.desired.schemas))
    out: list[Change] = [
        DefaultGrantsGoWith(d) for d in live.values() if d.schema and d.schema in dropped
    ]
    pairs = [(live.get(key) or _unset(d), d) for key, d in desired.items()]
    pairs += [
        (d, _unset(d))
        for key, d in live.items()
        if key not in desired and _exact(ctx.desired, d) and d.schema not in dropped
    ]
    for old, new in pairs:
        if (old.privileges, old.grantable) == (new.privileges, new.grantable):
            continue
        if new.on == "schemas":  # new schemas are made under the defaults found
            out.append(ChangeDefaultGrant(old, new, (), new_schemas))
            continue
        precedes = (new.schema,) if new.schema else kept
        follows = (new.schema,) if new.schema in new_schemas else ()
        out.append(ChangeDefaultGrant(old, new, precedes, follows, fresh=bool(follows)))
    return out


def unnamed_default_grants(desired: PgSnapshot, live: PgSnapshot) -> list[dict[str, str]]:
    """Findings: default privileges the YAML does not name, where they are left alone."""
    out = []
    for key, d in sorted(live.default_grants.items()):
        if key in desired.default_grants or _exact(desired, d):
            continue
        what = ", ".join(p.upper() for p in d.privileges) or "nothing"
        where = f" in schema {d.schema}" if d.schema else ""
        out.append(
            {
                "kind": "unnamed_grant",
                "address": str(d.address),
                "message": f"role {d.grantee} is given {what} on the {d.on} {d.role} creates"
                f"{where}, which the YAML does not name: left as it is (`privileges: exact` "
                "revokes what the YAML does not list)",
            }
        )
    return out
