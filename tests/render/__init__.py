"""The plan as text (reconciler/render): colour, and the reviewed golden plan."""
