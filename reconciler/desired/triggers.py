"""A table's triggers, row-level security policies and exclusion constraints from its spec
(`triggers:`, `policies:`, `exclusions:`).

The WHEN condition is checked to be one expression and kept in the spelling pglast prints
back, the same printer the introspector applies to the server's definition; where the
server adds casts, the planner's probe gives its exact text (canonical.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.desired import sqltext
from reconciler.desired.spec import ExclusionSpec, PolicySpec, TriggerSpec
from reconciler.desired.tables import split_name
from reconciler.desired.yamlload import Where
from reconciler.model.names import qualified, split_qualified
from reconciler.model.pg import Exclusion
from reconciler.model.pg_objects import TRIGGER_EVENTS, Policy, Trigger

if TYPE_CHECKING:
    from reconciler.desired.tables import TableBuilder


def build_trigger(table: TableBuilder, spec: TriggerSpec, where: Where) -> None:
    ctx = table.ctx
    name_at = where.sub("name")
    if not ctx.name_ok(spec.name, name_at):
        return
    key = (table.schema, table.name, spec.name)
    if key in ctx.triggers:
        ctx.report(name_at, f"trigger '{spec.name}' is declared twice on '{table.name}'")
        return
    events = tuple(e for e in TRIGGER_EVENTS if e in spec.events)
    if len(events) != len(spec.events):
        ctx.report(where.sub("events"), "an event is given twice")
        return
    if spec.columns and "update" not in events:
        ctx.report(where.sub("columns"), "columns (UPDATE OF) need the update event", key=True)
        return
    if "truncate" in events and spec.for_each == "row":
        ctx.report(where.sub("events"), "a truncate trigger must be `for_each: statement`")
        return
    if spec.constraint and (spec.timing, spec.for_each) != ("after", "row"):
        ctx.report(where.sub("constraint"), "a constraint trigger is `after`, for each row")
        return
    if (spec.deferrable or spec.initially_deferred) and not spec.constraint:
        key = "deferrable" if spec.deferrable else "initially_deferred"
        ctx.report(where.sub(key), "only a constraint trigger (`constraint: true`) is deferrable")
        return
    if spec.initially_deferred and not spec.deferrable:
        ctx.report(where.sub("initially_deferred"), "initially_deferred needs deferrable: true")
        return
    table.exist(spec.columns, where.sub("columns"), "trigger", unique=True)
    when = ctx.expression(spec.when, where.sub("when"), "trigger condition")
    if spec.when is not None and when is None:
        return
    fschema, fname = _function_name(spec.function)
    if not (
        ctx.name_ok(fschema, where.sub("function")) and ctx.name_ok(fname, where.sub("function"))
    ):
        return
    ctx.triggers[key] = Trigger(
        schema=table.schema,
        table=table.name,
        name=spec.name,
        timing=spec.timing,
        events=events,
        function=qualified(fschema, fname),
        level=spec.for_each,
        columns=tuple(spec.columns),
        when=None if when is None else _printed(when),
        arguments=tuple(spec.arguments),
        comment=spec.comment,
        source=where.source,
        constraint=spec.constraint,
        deferrable=spec.deferrable,
        initially_deferred=spec.initially_deferred,
    )


def build_policy(table: TableBuilder, spec: PolicySpec, where: Where) -> None:
    ctx = table.ctx
    name_at = where.sub("name")
    if not ctx.name_ok(spec.name, name_at):
        return
    key = (table.schema, table.name, spec.name)
    if key in ctx.policies:
        ctx.report(name_at, f"policy '{spec.name}' is declared twice on '{table.name}'")
        return
    if spec.command == "select" and spec.check is not None:
        ctx.report(where.sub("check"), "a select policy has no `check` (WITH CHECK)", key=True)
        return
    if spec.command in ("insert",) and spec.using is not None:
        ctx.report(where.sub("using"), "an insert policy has no `using`", key=True)
        return
    roles = []
    for j, role in enumerate(spec.roles):
        name = "public" if role.lower() == "public" else role
        if ctx.name_ok(name, where.sub("roles", j)):
            roles.append(name)
    using = ctx.expression(spec.using, where.sub("using"), "policy expression")
    check = ctx.expression(spec.check, where.sub("check"), "policy check")
    if (spec.using is not None and using is None) or (spec.check is not None and check is None):
        return
    ctx.policies[key] = Policy(
        schema=table.schema,
        table=table.name,
        name=spec.name,
        command=spec.command,
        permissive=spec.permissive,
        roles=tuple(sorted(set(roles))),
        using=using,
        check=check,
        comment=spec.comment,
        source=where.source,
    )


def _printed(condition: str) -> str:
    from reconciler.introspect.rows import trigger_when

    statement = (
        "CREATE TRIGGER x BEFORE UPDATE ON x FOR EACH ROW "
        f"WHEN (\n{condition}\n) EXECUTE FUNCTION x()"
    )
    return trigger_when(statement) or condition


def build_exclusion(table: TableBuilder, spec: ExclusionSpec, where: Where) -> Exclusion | None:
    """One exclusion constraint; its definition must be exactly `EXCLUDE [USING m] (…) …`."""
    from pglast import ast, parse_sql
    from pglast.enums import ConstrType

    ctx = table.ctx
    if not ctx.name_ok(spec.name, where.sub("name")):
        return None
    # its index takes the constraint's name, in the schema's one namespace of relations
    if not ctx.claim_relation(table.schema, spec.name, "exclusion constraint", where.sub("name")):
        return None
    definition = spec.definition.strip()
    try:
        sqltext.check_tokens(definition, "exclusion definition")
        stmts = parse_sql(f"ALTER TABLE x ADD CONSTRAINT c {definition}")
    except sqltext.SqlTextError as exc:
        ctx.report(where.sub("definition"), str(exc))
        return None
    except Exception as exc:
        ctx.report(where.sub("definition"), f"invalid exclusion definition: {exc}")
        return None
    stmt = stmts[0].stmt if len(stmts) == 1 else None
    cmds = getattr(stmt, "cmds", None) or ()
    con = cmds[0].def_ if isinstance(stmt, ast.AlterTableStmt) and len(cmds) == 1 else None
    if not isinstance(con, ast.Constraint) or con.contype != ConstrType.CONSTR_EXCLUSION:
        ctx.report(where.sub("definition"), "an exclusion definition starts with EXCLUDE")
        return None
    columns = tuple(pair[0].name for pair in con.exclusions if pair[0].name)
    table.exist(columns, where.sub("definition"), "exclusion")
    return Exclusion(spec.name, definition, spec.comment, columns, where.source)


def _function_name(text: str) -> tuple[str, str]:
    """(schema, name) of a trigger's function as written: `schema.name`, `name` (public), or
    quoted as export writes a name that needs it (`schema_2."increment version"`). A quoted
    name was split at its first dot and quoted again, so its trigger named a function that
    does not exist."""
    if '"' not in text:
        return split_name(text, None, "public")
    parts = split_qualified(text)
    return ("public", parts[0]) if len(parts) == 1 else (parts[0], parts[-1])
