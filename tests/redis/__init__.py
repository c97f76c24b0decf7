"""Redis end to end: plan, apply and rollback through the CLI, and Redis Cluster."""
