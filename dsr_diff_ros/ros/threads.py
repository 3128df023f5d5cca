"""CPU thread budget of the node process: keep a core for the ROS executor.

OpenMP thread counts are per thread and fixed when the runtime starts, so the process-wide default must be set
before torch is imported: with every core given to torch, OpenMP workers and the executor's threads fight and
a 30 Hz stream stalls inference for seconds (measured on the 2-core machine: 0.1-1 Hz output instead of ~5 Hz).
"""
from __future__ import annotations

import os


def default_cpu_threads() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def reserve_core_for_executor() -> None:
    """Set OMP_NUM_THREADS (unless the user did) before torch is imported."""
    os.environ.setdefault("OMP_NUM_THREADS", str(default_cpu_threads()))
