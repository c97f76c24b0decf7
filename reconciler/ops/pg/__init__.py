"""Typed PostgreSQL changes, one module per object kind."""
