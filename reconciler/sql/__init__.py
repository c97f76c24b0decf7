"""SQL text: checking fragments written in YAML (fragments.py: names, types, collations;
expressions.py: expressions and queries), the names they refer to (names.py), and rendering
model values (render.py)."""
