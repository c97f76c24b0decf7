"""The plan pipeline: desired + live -> canonical forms -> changes -> an ordered, checked plan."""
