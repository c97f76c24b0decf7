"""SQL text: checking fragments written in YAML, the names they refer to, and rendering
model values."""
