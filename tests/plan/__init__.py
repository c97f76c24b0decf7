"""Planning (reconciler/plan, reconciler/pipeline): ordering, targets, phased changes, rebuilds,
reversible drops, the remembered "no changes" verdict and what the model cannot express."""
