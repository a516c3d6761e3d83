"""Explaining the trained network: attributions and their quality checks, what the hidden units learned, why pixel order does not matter."""
