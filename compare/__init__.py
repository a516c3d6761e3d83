"""The parity harness: the NumPy reference against the torch twin, and a learner's own file against the twin.

Only compares: every function here returns typed results; catnet/commands/compare.py prints and writes them.
"""
