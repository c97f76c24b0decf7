"""A table's triggers, row-level security policies and exclusion constraints from its spec
(`triggers:`, `policies:`, `exclusions:`).

The WHEN condition is checked to be one expression and kept in the spelling pglast prints
back, the same printer the introspector applies to the server's definition; where the
server adds casts, the planner's probe gives its exact text (pipeline/canonical.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pglast import ast, parse_sql
from pglast.enums import ConstrType

from reconciler.desired.context import split_name
from reconciler.model.names import qualified, split_qualified
from reconciler.model.pg import Exclusion
from reconciler.model.pg_objects import TRIGGER_EVENTS, Policy, Trigger
from reconciler.project.yamlload import Where
from reconciler.sql import fragments as sqltext
from reconciler.sql.expressions import trigger_when

if TYPE_CHECKING:
    from reconciler.desired.spec_table import ExclusionSpec, PolicySpec, TriggerSpec
    from reconciler.desired.table_scope import TableScope


def build_trigger(table: TableScope, spec: TriggerSpec, where: Where) -> None:
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
    problem = _shape_problem(spec, events, view=(table.schema, table.name) in ctx.views)
    if problem is not None:
        ctx.report(where.sub(problem[0]), problem[1])
        return
    from_table = None
    if spec.from_ is not None:
        from_table = _function_name(spec.from_)  # the same spelling: quoted where needed
        if not all(ctx.name_ok(part, where.sub("from")) for part in from_table):
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
        from_table=from_table,
        old_table=spec.old_table,
        new_table=spec.new_table,
        fires=spec.fires,
    )


def _shape_problem(spec: TriggerSpec, events: tuple[str, ...], *, view: bool) -> Any:
    """(key, sentence) for a trigger Postgres would refuse on a view or a table, or for
    transition tables, FROM or `fires` where they cannot be; None when it is sound."""
    if view and spec.timing != "instead of" and spec.for_each == "row":
        return "timing", "a view's row trigger is `instead of` (before/after: for_each statement)"
    if spec.timing == "instead of":
        if not view:
            return "timing", "only a view has `instead of` triggers"
        if spec.for_each != "row" or spec.columns or spec.when is not None:
            return "timing", "an `instead of` trigger is for each row, without columns or when"
    if view and "truncate" in events:
        return "events", "a view has no truncate triggers"
    if view and spec.fires != "origin":
        return "fires", "a view's triggers always fire as created (`fires: origin`)"
    if spec.from_ is not None and not spec.constraint:
        return "from", "only a constraint trigger (`constraint: true`) names a `from` table"
    if spec.old_table is None and spec.new_table is None:
        return None
    key = "old_table" if spec.old_table is not None else "new_table"
    if spec.timing != "after" or spec.constraint or view:
        return key, "transition tables are for the `after` triggers of a table only"
    if len(events) != 1 or "truncate" in events or spec.columns:
        return key, "transition tables need one event, not truncate, and no columns"
    if spec.old_table is not None and events[0] == "insert":
        return "old_table", "an insert trigger has no old_table (only new_table)"
    if spec.new_table is not None and events[0] == "delete":
        return "new_table", "a delete trigger has no new_table (only old_table)"
    if spec.old_table == spec.new_table:
        return "new_table", "old_table and new_table need two names"
    return None


def build_policy(table: TableScope, spec: PolicySpec, where: Where) -> None:
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
    statement = (
        "CREATE TRIGGER x BEFORE UPDATE ON x FOR EACH ROW "
        f"WHEN (\n{condition}\n) EXECUTE FUNCTION x()"
    )
    return trigger_when(statement) or condition


def build_exclusion(table: TableScope, spec: ExclusionSpec, where: Where) -> Exclusion | None:
    """One exclusion constraint; its definition must be exactly `EXCLUDE [USING m] (…) …`."""
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
