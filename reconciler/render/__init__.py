"""Renderers of plans and results. Both text and JSON draw from Plan.to_dict().

Must not: compute anything a plan does not already hold.
"""
