"""A table's triggers from its spec (the `triggers:` key of a table).

The WHEN condition is checked to be one expression and kept in the spelling pglast prints
back, the same printer the introspector applies to the server's definition; where the
server adds casts, the planner's probe gives its exact text (canonical.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.desired.spec import TriggerSpec
from reconciler.desired.tables import split_name
from reconciler.desired.yamlload import Where
from reconciler.model.names import qualified
from reconciler.model.pg import TRIGGER_EVENTS, Trigger

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
    table.exist(spec.columns, where.sub("columns"), "trigger", unique=True)
    when = ctx.expression(spec.when, where.sub("when"), "trigger condition")
    if spec.when is not None and when is None:
        return
    fschema, fname = split_name(spec.function, None, "public")
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
    )


def _printed(condition: str) -> str:
    from reconciler.introspect.postgres import trigger_when

    statement = (
        "CREATE TRIGGER x BEFORE UPDATE ON x FOR EACH ROW "
        f"WHEN (\n{condition}\n) EXECUTE FUNCTION x()"
    )
    return trigger_when(statement) or condition
