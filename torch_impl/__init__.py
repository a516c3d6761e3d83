"""The same network in PyTorch, built from numpy_impl's spec and initial parameters.

Rows are examples here, as PyTorch expects: inputs (m, n_x), activations
(m, n_l), so every Z and A is the transpose of numpy_impl's. nn.Linear keeps
its weight as (n_l, n_{l-1}), the course's W, so parameters copy over as they are.
"""
