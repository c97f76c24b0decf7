#!/usr/bin/env bash
# make demo: embedded throwaway servers, then validate → plan → apply → plan (no changes).
set -euo pipefail
cd "$(dirname "$0")/.."
R=.venv/bin/reconciler
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "reconciler dev up"
$R dev up
ADMIN_URL="$($R dev url --pg)"
# A fresh demo database each time, so every run shows the whole plan → apply → no-op cycle.
export RECONCILER_PG_URL="${ADMIN_URL%/*}/reconciler_demo"
.venv/bin/python - "$ADMIN_URL" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute("DROP DATABASE IF EXISTS reconciler_demo WITH (FORCE)")
    conn.execute("CREATE DATABASE reconciler_demo")
PY
echo "demo database: $RECONCILER_PG_URL"
DEMO_PLANS="$(mktemp -d)"
trap 'rm -rf "$DEMO_PLANS"' EXIT

step "reconciler validate --schemas schemas"
$R validate --schemas schemas

step "reconciler plan --schemas schemas --out $DEMO_PLANS --sql"
$R plan --schemas schemas --out "$DEMO_PLANS" --sql

step "reconciler apply --plan <the saved plan> --auto-approve"
PLAN="$(ls "$DEMO_PLANS"/*.plan.json 2>/dev/null | tail -n 1 || true)"
if [ -n "$PLAN" ]; then
  $R apply --plan "$PLAN" --auto-approve
else
  echo "(the dev database already matches schemas/; nothing to apply)"
fi

step "reconciler plan again: expect no changes"
$R plan --schemas schemas --out "$DEMO_PLANS" --detailed-exitcode

step "reconciler state history"
$R state history

step "reconciler rollback --last, then apply again"
$R rollback --last --auto-approve --out "$DEMO_PLANS"
$R apply --schemas schemas --out "$DEMO_PLANS" --auto-approve

printf '\nDemo done. The dev servers keep running: `reconciler dev down` removes them.\n'
