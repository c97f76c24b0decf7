"""Typed changes (operations): SQL rendering, inverse, hazards and dependencies per object kind.

Must not: read catalogs or decide what changed (that is diff/), or order changes
(pipeline/graph.py).
"""
