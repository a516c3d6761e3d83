"""The reference network in NumPy, in the course's conventions.

X is (n_x, m), W is (n_l, n_{l-1}), b is (n_l, 1). Imports no torch.
"""
