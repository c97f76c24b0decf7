"""Introspection (reconciler/introspect): live PostgreSQL catalogs and Redis keyspaces read
back as model values, on real servers."""
