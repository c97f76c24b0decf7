"""The state backends (reconciler/state): the conformance suite and the Postgres backend."""
