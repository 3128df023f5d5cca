"""Allocator tuning for a process that handles multi-megabyte messages every frame.

glibc serves allocations above M_MMAP_THRESHOLD (128 KiB by default, adapting up to 32 MiB) with fresh mmap()s
and returns them on free, so every 10 MB point cloud buffer is page-faulted in again (~2,400 faults per copy).
Raising the mmap and trim thresholds keeps those buffers in the heap and reused: on the project's CPU this
made a 10 MB copy 4x faster (bench/bench_node.py). No effect (returns False) where glibc is not available.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def tune_malloc(mmap_threshold: int = 32 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Call once at process start-up; returns True when glibc accepted both settings."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, int(mmap_threshold))) and \
            bool(libc.mallopt(M_TRIM_THRESHOLD, int(trim_threshold)))
    except (OSError, AttributeError):
        return False
