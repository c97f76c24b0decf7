"""Use cases (reconciler/usecases): backup and restore, check, drift, fleets, rollback-check and
Redis health."""
