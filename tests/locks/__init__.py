"""The apply locks (reconciler/locks) on real PostgreSQL and Redis servers."""
