"""Default privileges (ALTER DEFAULT PRIVILEGES): for every (creating role, schema, kind,
grantee) the desired state declares, what the grantee is given is made what it says. One it
does not declare is left alone, unless it is in a schema that says `privileges: exact` or is
database-wide while some schema says it (what a role creates there gets it too): then the
grantee is given what it would be without it. A schema the plan drops takes its own with it."""

from __future__ import annotations

from dataclasses import replace

from reconciler.diff.context import DiffContext
from reconciler.diff.kinds import Kind, walk
from reconciler.model.pg_grants import DefaultGrant
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
    live = ctx.live.default_grants
    dropped = {
        c.address.parts[2] for c in changes if c.action is Action.DROP and c.kind == "schema"
    }
    new_schemas = tuple(sorted(set(ctx.desired.schemas) - set(ctx.live.schemas)))
    kept = tuple(sorted(ctx.desired.schemas))

    def change(old: DefaultGrant, new: DefaultGrant) -> list[Change]:
        if (old.privileges, old.grantable) == (new.privileges, new.grantable):
            return []
        if new.on == "schemas":  # new schemas are made under the defaults found
            return [ChangeDefaultGrant(old, new, (), new_schemas)]
        precedes = (new.schema,) if new.schema else kept
        follows = (new.schema,) if new.schema in new_schemas else ()
        return [ChangeDefaultGrant(old, new, precedes, follows, fresh=bool(follows))]

    out: list[Change] = [
        DefaultGrantsGoWith(d) for d in live.values() if d.schema and d.schema in dropped
    ]
    return out + walk(
        ctx.desired.default_grants,
        live,
        Kind(
            create=lambda d: change(_unset(d), d),
            alter=change,
            # one not declared: given what it would be without it, where the YAML lists them
            drop=lambda d: change(d, _unset(d)),
            left_alone=lambda _, d: not _exact(ctx.desired, d) or d.schema in dropped,
        ),
    )


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
