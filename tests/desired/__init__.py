"""Loading desired state (reconciler/desired): the YAML loader, key specs, lint, and the
YAML reference page; mostly offline."""
