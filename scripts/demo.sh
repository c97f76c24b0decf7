#!/usr/bin/env bash
# make demo: embedded throwaway servers, then validate → plan → apply → plan (no changes).
set -euo pipefail
cd "$(dirname "$0")/.."
R=.venv/bin/reconciler
# Headings in bold on a terminal; plain text when piped, in CI or with NO_COLOR set.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  step() { printf '\n== %s\n' "$*"; }
fi

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
# Redis: logical database 1 of the dev server, seeded with a small keyspace in which some keys
# break the spec of schemas/keys/ (sessions and caches without a TTL, one key of no pattern).
REDIS_ADMIN="$($R dev url --redis)"
export RECONCILER_REDIS_URL="${REDIS_ADMIN%/*}/1"
.venv/bin/python - "$RECONCILER_REDIS_URL" <<'PY'
import sys, redis
r = redis.Redis.from_url(sys.argv[1])
r.flushdb()
r.hset("app:session:7f3a", mapping={"user": "42"})            # no TTL: the plan expires it
r.hset("app:session:9c1e", mapping={"user": "7"})
r.expire("app:session:9c1e", 3600)                           # within policy
r.set("app:run_cache:1001", '{"status": "done"}')           # no TTL: the plan expires it
r.rpush("app:queue:emails", "job-1", "job-2")                 # a queue: no TTL wanted
r.zadd("app:ratelimit:10.0.0.1", {"1700000000": 1700000000})
r.expire("app:ratelimit:10.0.0.1", 60)
r.set("legacy:counter", 3)                                    # no pattern: a finding only
PY
echo "demo keyspace: $RECONCILER_REDIS_URL"
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
printf 'The demo lives in %s and %s.\n' "$RECONCILER_PG_URL" "$RECONCILER_REDIS_URL"
printf 'The make database targets (db_backup, db_shell, db_migrate …) act on RECONCILER_PG_URL\n'
printf 'and RECONCILER_REDIS_URL when set, else on the dev servers'"'"' postgres database and db 0;\n'
printf 'to use them on the demo'"'"'s:\n  RECONCILER_PG_URL=%s RECONCILER_REDIS_URL=%s make db_backup\n' \
  "$RECONCILER_PG_URL" "$RECONCILER_REDIS_URL"
