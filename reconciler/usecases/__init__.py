"""Use cases built on the pipeline: check, drift, backup, fleet, Redis health, rollback checks."""
