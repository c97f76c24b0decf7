"""The files `reconciler init` lays out in a new project: reconciler.yaml, an example table and
key pattern, .gitignore and the editor settings that use the JSON Schemas.

Owns: their text. Must not: write anything (api/project.py init() writes them).
"""

from __future__ import annotations

CONFIG = """\
# Reconciler project settings: which servers each environment targets.
# Choose one with `reconciler --env NAME …` or RECONCILER_ENV; flags (--pg, --redis) and
# RECONCILER_PG_URL / RECONCILER_REDIS_URL still win. Keep passwords in the environment.
# Every ${VAR} of the chosen environment must be set (an unset one stops the command, naming
# it); delete the redis: line of an environment that has no Redis.
version: 1
default_environment: dev
environments:
  dev: {}  # nothing given: the servers of `reconciler dev up`
  staging:
    pg: ${STAGING_PG_URL}
    redis: ${STAGING_REDIS_URL}
  prod:
    pg: ${PROD_PG_URL}
    redis: ${PROD_REDIS_URL}
"""
TABLES = """\
# yaml-language-server: $schema=../../json-schema/desired-tables.schema.json
# One file per table. Uncomment and edit, then `reconciler validate` and `reconciler plan`.
#
# table: accounts
# comment: Customer accounts.
# columns:
#   - {name: id, type: uuid, default: gen_random_uuid()}
#   - {name: email, type: text, nullable: false}
#   - {name: created_at, type: timestamptz, nullable: false, default: now()}
#   - {name: updated_at, type: timestamptz, nullable: false, default: now()}
# primary_key: [id]
# unique:
#   - columns: [email]
"""
KEYS = """\
# yaml-language-server: $schema=../../json-schema/desired-keys.schema.json
# The Redis keyspace: key patterns with their type and TTL class, config, ACL users.
#
# namespace: app
# patterns:
#   - {pattern: "app:session:{id}", type: hash, class: session}
#   - {pattern: "app:cache:user:{id}", type: string, class: cache}
"""
GITIGNORE = """\
# Reconciler: local cache, run logs and backups stay out of version control; plans go in.
.reconciler/
state/logs/
backups/
"""
VSCODE = {
    "yaml.schemas": {
        "./json-schema/desired-tables.schema.json": [
            "schemas/**/*.yaml",
            "!schemas/**/keys/*.yaml",
        ],
        "./json-schema/desired-keys.schema.json": ["schemas/**/keys/*.yaml"],
    }
}
