"""What widens which rows roles see is gated like a drop of data: a restrictive row-level
security policy dropped (one an operator added out of band, say) or row-level security turned
off is refused without --allow-destructive, with a hazard saying what becomes visible; a
restrictive policy the plan replaces (dropped and created again) is not."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.helpers import run_cli, write_yaml

DOCS = """\
table: docs
primary_key: [id]
row_security: {row_security}
columns:
  - {{name: id, type: integer, nullable: false}}
  - {{name: tenant, type: text}}
policies:
  - {{name: allow_all, using: "true"}}
{extra}"""
TENANT = """\
  - name: tenant_only
    permissive: false
    using: "tenant = current_setting('app.tenant', true)"
"""


def _apply(tmp_path: Path, pg_url: str, text: str, *flags: str):
    write_yaml(tmp_path, "schemas/tables/docs.yaml", text)
    argv = ("apply", "--pg", pg_url, "--schemas", "schemas", "--auto-approve", *flags)
    return run_cli(*argv, cwd=tmp_path)


def _policies(pg_url: str) -> list[tuple]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        return (
            conn.execute(
                "SELECT polname, polpermissive, pg_get_expr(polqual, polrelid) FROM pg_policy "
                "ORDER BY polname"
            ).fetchall()
            + conn.execute(
                "SELECT relrowsecurity::text, '', '' FROM pg_class WHERE relname = 'docs'"
            ).fetchall()
        )


def test_dropping_a_restrictive_policy_or_row_security_is_gated(pg_url, tmp_path):
    r = _apply(tmp_path, pg_url, DOCS.format(row_security="on", extra=TENANT))
    assert r.code == 0, r.text
    before = _policies(pg_url)
    refused = _apply(tmp_path, pg_url, DOCS.format(row_security="on", extra=""))
    assert refused.code == 1, refused.text
    assert (
        "--allow-destructive" in refused.err and "pg.policy.public.docs.tenant_only" in refused.err
    )
    assert _policies(pg_url) == before
    plan = run_cli("plan", "--pg", pg_url, "--schemas", "schemas", "--out", "p", cwd=tmp_path)
    assert "restrictive policy tenant_only" in plan.out and "visible" in plan.out, plan.text
    off = _apply(tmp_path, pg_url, DOCS.format(row_security="off", extra=TENANT))
    assert off.code == 1 and "pg.table.public.docs" in off.err, off.text
    assert _policies(pg_url) == before
    allowed = _apply(
        tmp_path, pg_url, DOCS.format(row_security="on", extra=""), "--allow-destructive"
    )
    assert allowed.code == 0, allowed.text
    assert [p[0] for p in _policies(pg_url)[:-1]] == ["allow_all"]


def test_a_restrictive_policy_replaced_by_the_plan_needs_no_flag(pg_url, tmp_path):
    assert _apply(tmp_path, pg_url, DOCS.format(row_security="on", extra=TENANT)).code == 0
    edited = TENANT.replace("current_setting('app.tenant', true)", "current_user")
    r = _apply(tmp_path, pg_url, DOCS.format(row_security="on", extra=edited))
    assert r.code == 0, r.text
    assert ("tenant_only", False, "(tenant = CURRENT_USER)") in _policies(pg_url)


def test_a_restrictive_policy_made_permissive_or_rls_no_longer_forced_is_gated(pg_url, tmp_path):
    """Made permissive, a restrictive policy hides nothing any more: gated as its drop is.
    Forced row-level security made plain lets the table's owner past every policy: gated."""
    forced = DOCS.format(row_security="forced", extra=TENANT)
    assert _apply(tmp_path, pg_url, forced).code == 0
    before = _policies(pg_url)
    permissive = forced.replace("permissive: false", "permissive: true")
    r = _apply(tmp_path, pg_url, permissive)
    assert r.code == 1 and "pg.policy.public.docs.tenant_only" in r.err, r.text
    unforced = _apply(tmp_path, pg_url, DOCS.format(row_security="on", extra=TENANT))
    assert unforced.code == 1 and "pg.table.public.docs" in unforced.err, unforced.text
    assert _policies(pg_url) == before
    renamed = _apply(tmp_path, pg_url, forced.replace("tenant_only", "tenant_guard"))
    assert renamed.code == 1 and "--allow-destructive" in renamed.err, renamed.text
    assert _policies(pg_url) == before


def test_a_rollback_that_widens_access_is_gated_like_a_plan(pg_url, tmp_path):
    """Rolling back the version that added a restrictive policy and forced row-level security
    drops the one and unforces the other: refused without --allow-destructive, as a plan is."""
    assert _apply(tmp_path, pg_url, DOCS.format(row_security="on", extra="")).code == 0
    assert _apply(tmp_path, pg_url, DOCS.format(row_security="forced", extra=TENANT)).code == 0
    before = _policies(pg_url)
    argv = ("rollback", "--pg", pg_url, "--last", "--auto-approve")
    refused = run_cli(*argv, cwd=tmp_path)
    assert refused.code == 1 and "widen which rows roles see" in refused.err, refused.text
    assert _policies(pg_url) == before
    allowed = run_cli(*argv, "--allow-destructive", cwd=tmp_path)
    assert allowed.code == 0, allowed.text
    assert [p[0] for p in _policies(pg_url)[:-1]] == ["allow_all"]
