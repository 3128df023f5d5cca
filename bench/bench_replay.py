"""Replay overhead apart from the model: read + decode + sync + encode + write per 640x480 frame.

Builds a bag from the bundled Kinect sample (640x480 colour + registered depth, looped), replays it with a
near-zero-cost stand-in upscaler (nearest resize) so that inference is measured separately and excluded,
metrics off. Judged on the default output storage (mcap); sqlite3 and the optional point cloud are
listed for reference. Prints a table and writes bench/results/replay.json. Target: overhead <= 10 ms/frame.

    python bench/bench_replay.py [--repeat 8] [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from dsr_diff_ros.pipeline import Pipeline
from dsr_diff_ros.replay.driver import Replay, ReplayOptions
from dsr_diff_ros.replay.make_bag import MakeBagConfig, make_bag

SAMPLE = Path(__file__).resolve().parents[1] / "dsr_diff_ros" / "replay" / "sample"
TARGET_MS = 10.0


class NearestUpscaler:
    """Upscaler stand-in costing ~1 ms: nearest-neighbour resize (the model is benchmarked elsewhere)."""

    num_steps = default_steps = 1
    model_id, device = "bench:nearest", "cpu"

    cpu_s = 0.0

    def upscale(self, depth, rgb, steps=None, fill_holes=True, ensemble=None):
        t = time.process_time()
        try:
            return self._up(depth, rgb)
        finally:
            NearestUpscaler.cpu_s += time.process_time() - t

    @staticmethod
    def _up(depth, rgb):
        return cv2.resize(np.nan_to_num(depth), (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_NEAREST)


def run_case(bag: Path, out: Path, storage: str, points: bool, inputs: str, runs: int) -> dict:
    best = None
    for _ in range(runs):
        NearestUpscaler.cpu_s = 0.0
        c0 = time.process_time()
        res = Replay(Pipeline(NearestUpscaler(), compute_points=points),
                     ReplayOptions(storage=storage, points=points, copy_inputs=inputs, metrics=False,
                                   progress=False, overwrite=True)).run(bag, out)
        cpu = time.process_time() - c0 - NearestUpscaler.cpu_s
        t = res.timing
        n = res.frames
        row = {"storage": storage, "points": points, "inputs": inputs, "frames": n,
               **{f"{k}_ms": t[k] * 1e3 / n for k in ("read", "copy", "decode", "sync", "write", "infer")},
               "overhead_ms": t["overhead_ms_per_frame"],
               "overhead_cpu_ms": cpu * 1e3 / n, "fps_without_model": n / (t["wall"] - t["infer"])}
        if best is None or row["overhead_ms"] < best["overhead_ms"]:
            best = row
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=8, help="loops of the 5-frame sample (frames = 5 x repeat)")
    p.add_argument("--runs", type=int, default=3, help="runs per case (best kept)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "replay.json"))
    a = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        for storage in ("sqlite3", "mcap"):
            bag = td / f"in_{storage}"
            make_bag(SAMPLE, bag, MakeBagConfig(storage=storage, repeat=a.repeat))
            for points, inputs in ((False, "all"), (False, "none"), (True, "all")):
                rows.append(run_case(bag, td / "out", storage, points, inputs, a.runs))
    hdr = ("storage", "inputs", "points", "frames", "read_ms", "copy_ms", "decode_ms", "sync_ms", "write_ms",
           "overhead_ms", "overhead_cpu_ms", "infer_ms")
    print(" | ".join(hdr))
    for r in rows:
        print(" | ".join(f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k]) for k in hdr))
    main_rows = [r for r in rows if not r["points"] and r["inputs"] == "all"]
    ok = all(r["overhead_ms"] <= TARGET_MS for r in main_rows if r["storage"] == "mcap")  # the default storage
    print(f"\nreplay overhead (640x480, inputs copied, no point cloud): "
          + ", ".join(f"{r['storage']} {r['overhead_ms']:.1f} ms/frame wall ({r['overhead_cpu_ms']:.1f} ms CPU)"
                     for r in main_rows)
          + f" -> {'PASS' if ok else 'FAIL'} (target <= {TARGET_MS} ms for the default mcap output)")
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "replay_overhead", "resolution": "640x480 rgb8 + 16UC1 depth",
                               "target_ms": TARGET_MS, "pass": ok, "rows": rows, "machine": platform.platform(),
                               "cpu_count": __import__("os").cpu_count(), "loadavg": __import__("os").getloadavg(), "time": time.strftime("%Y-%m-%d %H:%M:%S")},
                              indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
