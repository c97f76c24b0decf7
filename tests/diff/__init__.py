"""Comparing (reconciler/diff): the compare loop and the expression reads that order changes;
offline."""
