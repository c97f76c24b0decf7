"""The project: its configuration (reconciler.yaml), its YAML files, its scope and its cache."""

MAX_BYTES = 5 * 1024 * 1024  # per YAML file; larger ones are refused unread
