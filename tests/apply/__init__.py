"""Applying plans (reconciler/apply): the CLI round trip, statement rounds, the Redis
executor, batches for the lock table and online-safe changes on busy tables."""
