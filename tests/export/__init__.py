"""Export (reconciler/export): YAML from a live PostgreSQL schema or Redis keyspace."""
