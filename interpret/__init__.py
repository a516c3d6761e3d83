"""Explaining the trained network: attributions, their quality checks, hidden-unit experiments."""
