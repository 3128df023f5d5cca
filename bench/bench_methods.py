#!/usr/bin/env python3
"""Benchmark every up-sampling method at 640x480 (latency + accuracy); same as `dsr-diff-bench`.

    python bench/bench_methods.py --scale 4 --frames 3 --repeats 5
Prints the table and writes bench/results/bench_methods.json.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsr_diff_ros.cli.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
