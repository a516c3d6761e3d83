"""Explaining the trained network: attributions and what the hidden units learned."""
