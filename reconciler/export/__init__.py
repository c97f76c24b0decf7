"""Export: live PostgreSQL and Redis written out as desired-state YAML."""
