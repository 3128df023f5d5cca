"""Soak benchmark: the node under a 30 Hz RGB + depth stream for ``--minutes`` (issue target: 30), or the replay
over a long generated bag; resident memory, latency percentiles and output rate per minute, queue depths.

    python bench/bench_soak.py node --minutes 30          # real model on CPU, as dsr-diff-node runs it
    python bench/bench_soak.py node --minutes 3 --model bicubic   # the node's pipeline, classical upscaler
    python bench/bench_soak.py replay --frames 3000 --model bicubic [--storage sqlite3] [--points] [--metrics]

Memory: RSS ceilings (90th percentile) of the first vs last quarter after warm-up (node: 20 % of the time;
replay: 20 % of the frames), and the ceilings' slope per 1000 frames (replay). Pass/fail: growth <= 5 %, latency
p50 of the last third within 20 % of the first third (no drift), pending pairs and synchronizer queues bounded
(no growing queue). Writes bench/results/soak_<part>.json and docs/figures/soak_<part>.png (``--out``,
``--figure``), prints a table. test/test_soak.py runs a short variant of both in CI.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_node as bn  # noqa: E402  (reserves a core for the executor, sets ROS isolation, imports rclpy)
import numpy as np  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"


def rss_mb() -> float:
    """Resident set size of this process in MiB (/proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _queues(node) -> int:
    qs = getattr(node.sync, "queues", None) or []
    return int(sum(len(q) for q in qs))


def soak_node(minutes: float, rate: float = 30.0, model: str = "dsr_diff", sample_s: float = 5.0) -> dict:
    """The node (real rclpy, the upscaler injected as benchmarks do) fed ``rate`` Hz for ``minutes``; ``model``
    "dsr_diff" is the shipped Upscaler, a baseline name (bicubic) runs the same node pipeline without the net."""
    from rclpy.parameter import Parameter

    from dsr_diff_ros.msg import UpscaleStats
    from dsr_diff_ros.replay.models import load_model
    from dsr_diff_ros.ros.memory import tune_malloc
    from dsr_diff_ros.ros.node import UpscaleNode

    rclpy = bn.rclpy
    tune_malloc()  # as dsr-diff-node does at start-up
    up = load_model(model, None, "cpu")
    rgb, _, lr, K = bn.sample()
    Kd = K.scaled(lr.shape[1], lr.shape[0])
    rclpy.init()
    node = UpscaleNode(upscaler=up, parameter_overrides=[Parameter("warmup", value=True), Parameter("lazy", value=False)])
    src = rclpy.create_node("soak_sensor")
    pubs = bn.sensor_publishers(src)
    outs, lock = [], threading.Lock()

    def on_stats(m):
        with lock:
            outs.append((time.monotonic(), m.latency_total_ms, m.header.stamp.sec * 10**9 + m.header.stamp.nanosec))
    src.create_subscription(UpscaleStats, "depth_upscaler/stats", on_stats, 50)
    ex = rclpy.executors.SingleThreadedExecutor()
    ex.add_node(node)
    ex.add_node(src)
    threading.Thread(target=bn.spin_quietly, args=(ex,), daemon=True).start()
    time.sleep(1.0)
    samples, sent_stamps = [], set()
    t0, sent, period, next_sample = time.monotonic(), 0, 1.0 / rate, 0.0
    while time.monotonic() - t0 < minutes * 60:
        ns = bn.publish_frame(pubs, rgb, lr, K, Kd)
        sent_stamps.add(ns)
        sent += 1
        el = time.monotonic() - t0
        if el >= next_sample:
            samples.append({"t_s": el, "rss_mb": rss_mb(), "pending": int(node._pending is not None),
                            "sync_queued": _queues(node), **dict(node.stats.counts)})
            next_sample += sample_s
        time.sleep(max(0.0, t0 + sent * period - time.monotonic()))
    counts = bn.stop_graph(ex, node, src)
    with lock:
        o = [(t - t0, lat, s) for t, lat, s in outs]
    return {"part": "node", "minutes": minutes, "input_rate_hz": rate, "pairs_sent": sent, "counters": counts,
            "outputs": len(o), "mis_stamped": sum(1 for _, _, s in o if s not in sent_stamps),
            "samples": samples, "latency_ms": [[round(t, 3), round(lat, 2)] for t, lat, _ in o],
            "model_id": up.model_id, "frame": "640x480 rgb8 + 160x120 16UC1 -> 640x480 + XYZRGB cloud"}


def soak_replay(frames: int, model: str, storage: str = "mcap", points: bool = False, bag: str | None = None,
                trace: bool = False, sample_s: float = 0.5, metrics: bool = False) -> dict:
    """Replay a generated bag of ``frames`` frames (or the existing ``bag``); RSS sampled every ``sample_s``,
    with ``trace`` tracemalloc snapshots after warm-up and at 95 % of the frames (top Python allocation growth);
    ``metrics``: also score the model and the default baselines per frame (the report's per-frame rows)."""
    import shutil
    import tracemalloc

    from dsr_diff_ros.data.shared import SAMPLE
    from dsr_diff_ros.pipeline import Pipeline
    from dsr_diff_ros.replay.driver import Replay, ReplayOptions
    from dsr_diff_ros.replay.make_bag import MakeBagConfig, make_bag
    from dsr_diff_ros.replay.models import load_model

    tmp = Path(tempfile.mkdtemp(prefix="soak_replay_"))
    t, made_s = time.monotonic(), 0.0
    if bag is None or not Path(bag).exists():
        bag = bag or str(tmp / "in")
        make_bag(SAMPLE, bag, MakeBagConfig(repeat=max(1, frames // 5)))
        made_s = time.monotonic() - t
    more = {} if metrics else {"baselines": ()}
    rep = Replay(Pipeline(load_model(model, None, "cpu")),
                 ReplayOptions(progress=False, metrics=metrics, copy_inputs="none", storage=storage,
                               points=points, max_frames=frames, **more))
    warm_frames = warmup_frames(frames)
    samples, snaps, done = [], {}, threading.Event()
    if trace:
        tracemalloc.start()

    def watch():
        t0 = time.monotonic()
        while not done.is_set():
            res = getattr(rep, "_res", None)
            n = res.frames if res else 0
            samples.append({"t_s": time.monotonic() - t0, "rss_mb": rss_mb(), "frames": n,
                            "deferred": len(getattr(rep, "_deferred", []))})
            for key, at in (("warm", warm_frames), ("end", 0.95 * frames)):
                if trace and key not in snaps and n >= at:
                    snaps[key] = tracemalloc.take_snapshot()
            done.wait(sample_s)
    th = threading.Thread(target=watch, daemon=True)
    th.start()
    res = rep.run(bag, tmp / "out")
    done.set()
    th.join()
    top = []
    if trace and len(snaps) == 2:
        tracemalloc.stop()
        grown = sorted(snaps["end"].compare_to(snaps["warm"], "lineno"), key=lambda d: -d.size_diff)
        for d in grown[:12]:
            top.append({"where": str(d.traceback[0]), "size_diff_kib": d.size_diff / 1024, "count_diff": d.count_diff})
    shutil.rmtree(tmp, ignore_errors=True)
    return {"part": "replay", "frames": res.frames, "dropped": res.dropped, "model": model, "storage": storage,
            "points": points, "metrics": metrics, "make_bag_s": made_s, "timing": res.timing, "samples": samples,
            "tracemalloc_growth_after_warmup": top}


def warmup_frames(frames: int) -> int:
    """Replay warm-up: the first 20 % of the frames, at least 100 (allocator pools, first chunks, caches)."""
    return max(100, frames // 5)


def _growth(s: list, key: str = "t_s") -> tuple[float, float, float, float]:
    """RSS ceiling (90th percentile) of the first and last quarter of the post-warm-up samples, growth %, and
    the slope of the four quarters' ceilings per 1000 units of ``key`` (frames). Ceilings, because RSS saw-tooths
    by tens of MiB as frame-sized buffers are mmapped and returned; a leak lifts every peak."""
    q = [x for x in np.array_split(np.arange(len(s)), 4) if len(x)]
    ceil = [float(np.percentile([s[i]["rss_mb"] for i in ix], 90)) for ix in q]
    at = [float(np.mean([s[i][key] for i in ix])) for ix in q]
    slope = float(np.polyfit(at, ceil, 1)[0]) * 1000 if len(q) >= 3 and np.ptp(at) > 0 else float("nan")
    return ceil[0], ceil[-1], 100 * (ceil[-1] - ceil[0]) / ceil[0], slope


def analyse(r: dict) -> dict:
    """Growth after warm-up (node: first 20 % of the time; replay: of the frames), drift, per-minute rate and
    latency percentiles."""
    s = r["samples"]
    dur = s[-1]["t_s"] if s else 0.0
    if r["part"] == "node":
        warm = max(5.0, 0.2 * dur)  # the first 20 % (short CI runs: at least 5 s)
        after = [x for x in s if x["t_s"] >= warm] or s[-2:]
        base, end, g, _ = _growth(after)
        a = {"duration_min": dur / 60, "warmup_s": warm, "rss_mb_after_warmup": base, "rss_mb_end": end,
             "rss_mb_max": max(x["rss_mb"] for x in s), "memory_growth_pct": g}
    else:  # warm-up by frames: a fast replay can be over before any fixed number of seconds
        wf = warmup_frames(r["frames"])
        after = [x for x in s if x["frames"] >= wf] or s[-2:]
        base, end, g, slope = _growth(after, "frames")
        a = {"duration_min": dur / 60, "warmup_frames": wf, "warmup_s": after[0]["t_s"], "rss_mb_after_warmup": base,
             "rss_mb_end": end, "rss_mb_max": max(x["rss_mb"] for x in s), "memory_growth_pct": g,
             "rss_mb_per_1000_frames": slope}
    if r["part"] == "node":
        lat = np.array(r["latency_ms"]) if r["latency_ms"] else np.zeros((0, 2))
        post = lat[lat[:, 0] >= warm] if lat.size else lat
        thirds = np.array_split(post[:, 1], 3) if len(post) >= 3 else [post[:, 1]] * 3
        a["latency_ms"] = {f"p{q}": float(np.percentile(post[:, 1], q)) for q in (50, 90, 99)} if len(post) else {}
        a["latency_p50_first_third_ms"], a["latency_p50_last_third_ms"] = (float(np.median(thirds[0])),
                                                                           float(np.median(thirds[-1])))
        a["latency_drift_pct"] = 100 * (a["latency_p50_last_third_ms"] / a["latency_p50_first_third_ms"] - 1)
        per_min = []
        for m in range(int(np.ceil(dur / 60))):
            sel = lat[(lat[:, 0] >= 60 * m) & (lat[:, 0] < 60 * (m + 1))] if lat.size else lat
            if len(sel):
                per_min.append({"minute": m + 1, "outputs_hz": len(sel) / min(60.0, dur - 60 * m),
                                **{f"p{q}_ms": float(np.percentile(sel[:, 1], q)) for q in (50, 90, 99)}})
        a["per_minute"] = per_min
        a["max_pending"] = max(x["pending"] for x in s)
        a["max_sync_queued"] = max(x["sync_queued"] for x in s)
        c = r["counters"]
        a["accounted"] = c["pairs_received"] == c["pairs_processed"] + c["pairs_replaced"] + \
            c["pairs_dropped_bad_input"]
        a["pass"] = bool(a["memory_growth_pct"] <= 5 and abs(a["latency_drift_pct"]) <= 20 and a["max_pending"] <= 1
                         and a["max_sync_queued"] <= 2 * 10 and r["mis_stamped"] == 0)
    else:
        fr = [(x["t_s"], x["frames"]) for x in s]
        per_min = []
        for m in range(int(np.ceil(dur / 60))):
            inm = [(t, f) for t, f in fr if 60 * m <= t < 60 * (m + 1)]
            if len(inm) > 1 and inm[-1][0] > inm[0][0]:
                per_min.append({"minute": m + 1, "frames_per_s": (inm[-1][1] - inm[0][1]) / (inm[-1][0] - inm[0][0])})
        a["per_minute"] = per_min
        a["max_deferred"] = max(x["deferred"] for x in s)
        a["pass"] = bool(a["memory_growth_pct"] <= 5 and a["max_deferred"] <= 30)
    return a


def plot(r: dict, a: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = r["samples"]
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.6))
    ax[0].plot([x["t_s"] / 60 for x in s], [x["rss_mb"] for x in s])
    ax[0].axvline(a["warmup_s"] / 60, ls="--", c="grey")
    ax[0].set(xlabel="minutes", ylabel="RSS [MiB]", title=f"resident memory (growth {a['memory_growth_pct']:+.1f} %)")
    if r["part"] == "node" and r["latency_ms"]:
        lat = np.array(r["latency_ms"])
        ax[1].plot(lat[:, 0] / 60, lat[:, 1], ".", ms=2)
        ax[1].set(xlabel="minutes", ylabel="latency [ms]", title="receipt -> publish latency per output")
    else:
        ax[1].plot([x["t_s"] / 60 for x in s], [x["frames"] for x in s])
        ax[1].set(xlabel="minutes", ylabel="frames", title="frames replayed")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("part", choices=("node", "replay"))
    ap.add_argument("--minutes", type=float, default=30.0, help="node: duration of the 30 Hz stream")
    ap.add_argument("--frames", type=int, default=3000, help="replay: frames in the generated bag")
    ap.add_argument("--model", default="dsr_diff", help="dsr_diff or a baseline (bicubic: the node/replay plumbing)")
    ap.add_argument("--sample-s", type=float, default=None, help="memory sampling period (node 5 s, replay 0.5 s)")
    ap.add_argument("--figure", default=None, help="plot path (default docs/figures/soak_<part>.png)")
    ap.add_argument("--storage", default="mcap", choices=("mcap", "sqlite3"), help="replay: output bag storage")
    ap.add_argument("--points", action="store_true", help="replay: also write the point clouds")
    ap.add_argument("--bag", default=None, help="replay: reuse this input bag (generated there if missing)")
    ap.add_argument("--metrics", action="store_true", help="replay: score model + baselines per frame")
    ap.add_argument("--tracemalloc", action="store_true", help="replay: top Python allocation growth after warm-up")
    ap.add_argument("--out", default=None, help="JSON path (default bench/results/soak_<part>.json)")
    a = ap.parse_args(argv)
    if a.part == "node":
        r = soak_node(a.minutes, model=a.model, sample_s=a.sample_s or 5.0)
    else:
        r = soak_replay(a.frames, a.model, a.storage, a.points, a.bag, a.tracemalloc, a.sample_s or 0.5,
                        a.metrics)
    r["analysis"] = an = analyse(r)
    r["machine"] = bn.machine()
    out = Path(a.out) if a.out else RESULTS / f"soak_{a.part}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(r, indent=1))
    fig = Path(a.figure) if a.figure else FIGURES / f"soak_{a.part}.png"
    plot(r, an, fig)
    print(f"| soak {a.part} | value |\n|---|---|")
    for k in ("duration_min", "rss_mb_after_warmup", "rss_mb_end", "memory_growth_pct", "latency_ms",
              "latency_drift_pct", "max_pending", "max_sync_queued", "max_deferred",
              "rss_mb_per_1000_frames", "pass"):
        if k in an:
            v = an[k]
            print(f"| {k} | {json.dumps(v) if isinstance(v, dict) else (f'{v:.2f}' if isinstance(v, float) else v)} |")
    for row in an["per_minute"]:
        print("  ", json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in row.items()}))
    print(f"wrote {out} and {fig}")
    return 0 if an["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
