"""The project around the tool (reconciler/project): init, reconciler.yaml and its
environments, scope, the desired-state cache, and the examples/ folder."""
