"""What the numbers depend on: library versions, BLAS, device, threads, TF32 and determinism switches."""

from __future__ import annotations

import os
import platform
import re

import numpy as np


def describe(backend: dict, dtype: str) -> dict:
    """The report header; `backend` is what torch_impl.device.configure_backend returned."""
    import torch

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": _numpy_blas(),
        "torch": torch.__version__,
        "torch_blas": _torch_blas(torch),
        "device": backend.get("device", "cpu"),
        "cuda_device": backend.get("cuda_device"),
        "dtype": dtype,
        "torch_threads": torch.get_num_threads(),
        "blas_threads_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                             if k in os.environ},
        "cpu_count": os.cpu_count(),
        "allow_tf32": bool(backend.get("allow_tf32", False)),
        "cuda_matmul_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "deterministic": bool(torch.are_deterministic_algorithms_enabled()),
        "machine": platform.machine(),
    }


def _numpy_blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # the layout of show_config's dict is NumPy's to change
        return "unknown"


def _torch_blas(torch) -> str:
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return found.group(1) if found else "unknown"
