"""The locks that serialize runs (PostgreSQL advisory lock, Redis lock key) and the Redis
apply journal."""
