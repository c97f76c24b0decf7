"""Introspection of a live PostgreSQL catalog."""
