"""Reconciler keeps PostgreSQL schemas and Redis keyspaces at a desired state written in YAML."""

__version__ = "0.1.0"
