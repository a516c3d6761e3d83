"""What the numbers depend on: library versions, BLAS, device, threads, TF32 and determinism switches."""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass, field

import numpy as np

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Environment:
    """The report header of a comparison."""

    python: str
    numpy: str
    numpy_blas: str
    torch: str
    torch_blas: str
    device: str
    cuda_device: str | None
    dtype: str
    torch_threads: int
    blas_threads_env: dict[str, str] = field(default_factory=dict)  # the thread variables that are set
    cpu_count: int | None = None
    allow_tf32: bool = False
    cuda_matmul_tf32: bool = False
    deterministic: bool = False
    machine: str = ""


def describe(backend, dtype: str) -> Environment:
    """The environment of a run; `backend` is what torch_impl.device.configure_backend returned."""
    import torch

    return Environment(
        python=platform.python_version(),
        numpy=np.__version__,
        numpy_blas=_numpy_blas(),
        torch=torch.__version__,
        torch_blas=_torch_blas(torch),
        device=backend.device,
        cuda_device=backend.cuda_device,
        dtype=dtype,
        torch_threads=torch.get_num_threads(),
        blas_threads_env={k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ},
        cpu_count=os.cpu_count(),
        allow_tf32=bool(backend.allow_tf32),
        cuda_matmul_tf32=bool(torch.backends.cuda.matmul.allow_tf32),
        deterministic=bool(torch.are_deterministic_algorithms_enabled()),
        machine=platform.machine(),
    )


def _numpy_blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # the layout of show_config's dict is NumPy's to change
        return "unknown"


def _torch_blas(torch) -> str:
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return found.group(1) if found else "unknown"
