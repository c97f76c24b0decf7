#!/usr/bin/env bash
# make demo: embedded throwaway servers, then validate → plan → apply → plan (no changes).
set -euo pipefail
cd "$(dirname "$0")/.."
R=.venv/bin/reconciler
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "reconciler dev up"
$R dev up
PG_URL="$($R dev url --pg)"
export RECONCILER_PG_URL="$PG_URL"
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

printf '\nDemo done. The dev servers keep running: `reconciler dev down` removes them.\n'
