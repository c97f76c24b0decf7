"""A table's or view's rules from its spec (`rules:`).

The condition is checked to be one expression, each command to be one statement without `;`
or comments, and the whole CREATE RULE is parsed to be exactly one rule with those commands
(INSERT, UPDATE, DELETE, SELECT or NOTIFY): no text can end the statement and start another.
Texts are kept as written; where the server spells them otherwise, the planner's probe gives
its exact text (pipeline/canonical_rules.py).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from pglast import ast, parse_sql

from reconciler.model.pg_rules import Rule
from reconciler.ops.pg.rule import rule_sql
from reconciler.project.yamlload import Where
from reconciler.sql import expressions as sqlexpr
from reconciler.sql import fragments as sqltext

if TYPE_CHECKING:
    from reconciler.desired.context import Context
    from reconciler.desired.spec_table import RuleSpec

_COMMANDS = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.SelectStmt, ast.NotifyStmt)


def build_rule(
    ctx: Context, schema: str, table: str, spec: RuleSpec, where: Where, *, view: bool
) -> None:
    name_at = where.sub("name")
    if not ctx.name_ok(spec.name, name_at):
        return
    if spec.name == "_RETURN":
        ctx.report(name_at, "'_RETURN' is the name of a view's own rule (its query)")
        return
    key = (schema, table, spec.name)
    if key in ctx.rules:
        ctx.report(name_at, f"rule '{spec.name}' is declared twice on '{table}'")
        return
    if view and spec.fires != "origin":
        ctx.report(where.sub("fires"), "a view's rules always fire as created (`fires: origin`)")
        return
    condition = ctx.expression(spec.where, where.sub("where"), "rule condition")
    if spec.where is not None and condition is None:
        return
    given = [spec.do] if isinstance(spec.do, str) else list(spec.do)
    at = where.sub("do") if "do" in spec.model_fields_set else where
    actions = []
    for i, text in enumerate(given):
        spot = at.sub(i) if isinstance(spec.do, list) else at
        try:
            sqltext.check_tokens(text, "rule command")
        except sqltext.SqlTextError as exc:
            ctx.report(spot, str(exc))
            return
        actions.append(text.strip())
    rule = Rule(
        schema,
        table,
        spec.name,
        spec.event,
        instead=spec.instead,
        where=condition.strip() if condition is not None else None,
        actions=tuple(actions),
        fires=spec.fires,
        comment=spec.comment,
        source=where.source,
    )
    statement = rule_sql(rule)
    problem = _shape_problem(statement, len(actions), conditional=condition is not None)
    if problem is not None:
        ctx.report(at, problem)
        return
    reads = tuple((s, r, None) for s, r in sqlexpr.relations_read(statement))
    ctx.rules[key] = dataclasses.replace(rule, reads=reads)


def _shape_problem(statement: str, count: int, *, conditional: bool) -> str | None:
    """Why the CREATE RULE is not one rule with `count` commands of the kinds a rule runs."""
    try:
        stmts = parse_sql(statement)
    except Exception as exc:
        return f"invalid rule: {exc.args[0] if exc.args else type(exc).__name__}"
    stmt = stmts[0].stmt if len(stmts) == 1 else None
    if not isinstance(stmt, ast.RuleStmt) or len(stmt.actions or ()) != count:
        return "a rule's `do` is its commands, each one statement"
    if not all(isinstance(a, _COMMANDS) for a in stmt.actions or ()):
        return "a rule's commands are INSERT, UPDATE, DELETE, SELECT or NOTIFY"
    if conditional and any(isinstance(a, ast.NotifyStmt) for a in stmt.actions or ()):
        return "a rule with a `where` condition cannot NOTIFY (Postgres refuses it)"
    return None
