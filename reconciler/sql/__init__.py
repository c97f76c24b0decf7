"""SQL text: checking fragments written in YAML (fragments.py: names, types, collations;
expressions.py: expressions and queries), the names they refer to (names.py), rendering
model values (render.py), and laying out a statement for a person to read (layout.py)."""
