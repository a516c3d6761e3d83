"""What every layer of catnet stands on: settings, errors, the data, pixel orders, parameters, model files, the training contract.

The ground of the import layers (setup.cfg's import-linter contract):
catcore <- numpy_impl <- torch_impl <- compare, interpret <- catnet.
It imports NumPy (and h5py when data is read), nothing of the project.
"""
