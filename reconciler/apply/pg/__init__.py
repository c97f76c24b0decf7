"""Applying a plan's PostgreSQL changes."""
