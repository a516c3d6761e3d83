"""catnet: the course's cat classifier, twinned in NumPy and PyTorch.

Kept import-free on purpose: `catnet train --impl numpy` must start without
torch, captum or tensorboard.
"""

__version__ = "0.1.0"
