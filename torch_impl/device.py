"""Choosing the device and making CUDA runs repeatable."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from catcore.errors import CatnetError


def resolve_device(name: str) -> torch.device:
    """cpu, cuda or auto (CUDA when present) -> a torch.device; CUDA where there is none is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise CatnetError("--device cuda was asked for, but torch sees no CUDA GPU; use --device cpu or auto")
        return torch.device("cuda")
    raise CatnetError(f"unknown device {name!r}; choose auto, cpu or cuda")


@dataclass(frozen=True)
class Backend:
    """The process-wide torch settings a run had, for reports."""

    device: str  # "cpu", "cuda", "cuda:1", ...
    allow_tf32: bool
    deterministic: bool
    threads: int  # torch's intra-op CPU threads
    cuda_device: str | None  # the GPU's name, on CUDA


def configure_backend(device: torch.device, allow_tf32: bool = False) -> Backend:
    """TF32 off unless asked for, deterministic kernels on; returns the settings for reports.

    These are process-wide switches, so only the command-line layer calls this.
    TF32 is a mode of CUDA's matmuls: asking for it on the CPU is refused, not ignored.
    """
    if allow_tf32 and device.type != "cuda":
        raise CatnetError(f"--allow-tf32 applies to CUDA matmuls only; this run is on {device.type}")
    torch.backends.cuda.matmul.allow_tf32 = allow_tf32
    torch.backends.cudnn.allow_tf32 = allow_tf32
    if device.type == "cuda":
        # cuBLAS needs a fixed workspace to be deterministic; it must be set before its first use
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True)
    return Backend(
        device=str(device),
        allow_tf32=allow_tf32,
        deterministic=torch.are_deterministic_algorithms_enabled(),
        threads=torch.get_num_threads(),
        cuda_device=torch.cuda.get_device_name(device) if device.type == "cuda" else None,
    )
