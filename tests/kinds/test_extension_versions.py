"""Extension versions the server cannot reach are refused at plan time, with file:line: a
version it does not have, and a move between installed versions with no update script (most
extensions ship no downgrades). The database is left as it was."""

from __future__ import annotations

from tests.helpers import run_cli, write_yaml


def _plan(tmp_path, pg_url, version: str):
    root = tmp_path / "schemas"
    write_yaml(
        root, "extensions.yaml", f'extensions:\n  - {{name: citext, version: "{version}"}}\n'
    )
    return run_cli("plan", "--pg", pg_url, "--schemas", str(root), cwd=tmp_path)


def test_a_downgrade_with_no_script_is_refused_at_plan_time(pg_url, pg_conn, tmp_path) -> None:
    pg_conn.execute("CREATE EXTENSION citext VERSION '1.6'")
    r = _plan(tmp_path, pg_url, "1.5")
    assert r.code == 1, r.text
    assert "extensions.yaml:2" in r.text
    assert "extension citext cannot go from version 1.6 to 1.5" in r.text
    version = "SELECT extversion FROM pg_extension WHERE extname = 'citext'"
    assert pg_conn.execute(version).fetchone() == ("1.6",)
    # an upgrade the extension has a script for plans
    pg_conn.execute("DROP EXTENSION citext")
    pg_conn.execute("CREATE EXTENSION citext VERSION '1.5'")
    r = _plan(tmp_path, pg_url, "1.6")
    assert r.code == 0, r.text
    assert "1.5 → 1.6" in r.text


def test_a_version_the_server_lacks_is_refused(pg_url, tmp_path) -> None:
    r = _plan(tmp_path, pg_url, "9.9")
    assert r.code == 1, r.text
    assert "extensions.yaml:2" in r.text
    assert "extension citext version 9.9 is not available on the server" in r.text
