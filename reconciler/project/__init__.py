"""The project: its configuration (reconciler.yaml), its YAML files, its scope and its cache."""
