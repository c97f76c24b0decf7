"""Privileges from the `grants:` of a table, view, sequence, schema, function or type.

Each entry names a role (`public` for PUBLIC) and exactly the privileges it must hold there
(`[]`: none); optionally only on some columns (tables and views), optionally WITH GRANT
OPTION (all of them, or a list). The roles an object's entries name are the only ones
compared on that object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.model.pg_grants import DEFAULT_KINDS, PRIVILEGES, DefaultGrant, Grant
from reconciler.project.yamlload import Where

if TYPE_CHECKING:
    from reconciler.desired.context import Context
    from reconciler.desired.spec import DefaultPrivilegesSpec
    from reconciler.desired.spec_base import GrantSpec


def declare_grants(
    ctx: Context,
    on: str,
    schema: str,
    name: str,
    specs: Sequence[GrantSpec],
    where: Where,
    columns: Sequence[str] | None = None,
    key: str = "grants",
) -> None:
    """Record the grants of one object; `columns`, when given, are the ones it has; `key`
    is where the list stands in the file."""
    for i, spec in enumerate(specs):
        gw = where.sub(key, i)
        role = "public" if spec.role.lower() == "public" else spec.role
        if role != "public" and not ctx.name_ok(role, gw.sub("role")):
            continue
        targets: list[tuple[str, str | None]] = [(on, None)]
        if spec.columns:
            if on != "table":
                ctx.report(gw.sub("columns"), "only a table's or view's privileges take columns")
                continue
            missing = [c for c in spec.columns if columns is not None and c not in columns]
            if missing:
                ctx.report(gw.sub("columns"), f"'{missing[0]}' is not a column of '{name}'")
                continue
            targets = [("column", c) for c in spec.columns]
        allowed = PRIVILEGES[targets[0][0]]
        wrong = [p for p in spec.privileges if p not in allowed]
        if wrong:
            ctx.report(
                gw.sub("privileges"),
                f"'{wrong[0]}' is not a privilege here (one of: {', '.join(allowed)})",
            )
            continue
        privileges = tuple(sorted(set(spec.privileges)))
        option = spec.with_grant_option
        grantable = privileges if option is True else tuple(sorted(set(option or ())))
        if not set(grantable) <= set(privileges):
            ctx.report(gw.sub("with_grant_option"), "only privileges listed can be grantable")
            continue
        for kind, column in targets:
            grant = Grant(
                on=kind,
                schema=schema,
                name=name,
                column=column,
                role=role,
                privileges=privileges,
                grantable=grantable,
                source=gw.source,
            )
            if grant.key in ctx.grants:
                ctx.report(gw.sub("role"), f"the privileges of '{role}' are given twice here")
                continue
            ctx.grants[grant.key] = grant


def declare_default_grants(ctx: Context, spec: DefaultPrivilegesSpec, where: Where) -> None:
    """Record one `default_privileges:` entry: what each grantee is given on the objects of
    one kind its role creates (in its schema, or anywhere)."""
    role, schema = spec.for_role, spec.schema_ or ""
    if not ctx.name_ok(role, where.sub("for_role")):
        return
    if schema and spec.on == "schemas":
        ctx.report(where.sub("schema"), "default privileges on schemas cannot be given in a schema")
        return
    if schema:
        ctx.use_schema(schema, where)
    allowed = PRIVILEGES[DEFAULT_KINDS[spec.on]]
    for i, g in enumerate(spec.grants):
        gw = where.sub("grants", i)
        grantee = "public" if g.role.lower() == "public" else g.role
        if grantee != "public" and not ctx.name_ok(grantee, gw.sub("role")):
            continue
        if g.columns:
            ctx.report(gw.sub("columns"), "default privileges do not take columns")
            continue
        if wrong := [p for p in g.privileges if p not in allowed]:
            ctx.report(
                gw.sub("privileges"),
                f"'{wrong[0]}' is not a privilege on {spec.on} (one of: {', '.join(allowed)})",
            )
            continue
        privileges = tuple(sorted(set(g.privileges)))
        option = g.with_grant_option
        grantable = privileges if option is True else tuple(sorted(set(option or ())))
        if not set(grantable) <= set(privileges):
            ctx.report(gw.sub("with_grant_option"), "only privileges listed can be grantable")
            continue
        d = DefaultGrant(role, schema, spec.on, grantee, privileges, grantable, gw.source)
        if d.key in ctx.default_grants:
            first = ctx.default_grants[d.key].source
            ctx.report(gw.sub("role"), f"'{grantee}' is given privileges twice (first at {first})")
            continue
        ctx.default_grants[d.key] = d
