"""Export of a live PostgreSQL database as desired-state YAML."""
