"""Short soak runs of bench/bench_soak.py (the 30-minute node / few-thousand-frame replay benchmark) in CI: the
real node with real rclpy under a 30 Hz RGB-D stream for 20 s, and the replay over a 300-frame real bag; no
growing queue, bounded memory growth, steady output. The upscaler is the bicubic baseline behind the node's and
the replay's own pipeline (the network's cost is the model benchmarks' business, not a leak check's).
Each part runs in its own process (fresh rclpy, its own RSS); thresholds leave room for a loaded 2-core box."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_soak.py"
pytestmark = pytest.mark.slow


def _run(tmp_path, *args, timeout=150) -> dict:
    out = tmp_path / "soak.json"
    p = subprocess.run([sys.executable, str(BENCH), *args, "--model", "bicubic", "--out", str(out),
                        "--figure", str(tmp_path / "soak.png")], capture_output=True, text=True, timeout=timeout)
    assert out.exists(), f"bench_soak failed (rc {p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    assert (tmp_path / "soak.png").exists()
    return json.loads(out.read_text())


def _halves(xs):
    return np.array_split(np.asarray(xs, float), 2)


def test_node_soak_30hz_20s(tmp_path):
    r = _run(tmp_path, "node", "--minutes", "0.34", "--sample-s", "1")
    a, c = r["analysis"], r["counters"]
    assert a["accounted"] and r["mis_stamped"] == 0                   # every pair accounted, no foreign stamps
    assert c["pairs_dropped_bad_input"] == 0 and c["pairs_received"] >= 0.8 * r["pairs_sent"]
    assert a["max_pending"] <= 1 and a["max_sync_queued"] <= 20        # latest-wins: no growing queue
    assert a["memory_growth_pct"] <= 5, a
    lat = np.array(r["latency_ms"])
    post = lat[lat[:, 0] >= a["warmup_s"]]
    end = r["minutes"] * 60
    assert len(post) >= 2 * (end - a["warmup_s"])                      # >= 2 Hz out of 30 Hz in
    mid = (a["warmup_s"] + end) / 2
    first, last = (post[:, 0] < mid).sum(), (post[:, 0] >= mid).sum()
    assert last >= 0.5 * first                                         # output rate steady (equal windows)
    assert a["latency_p50_last_third_ms"] <= 2 * a["latency_p50_first_third_ms"] + 50, a


def test_replay_soak_300_frames(tmp_path):
    r = _run(tmp_path, "replay", "--frames", "300")
    a = r["analysis"]
    assert r["frames"] == 300 and r["dropped"] == 0
    assert a["max_deferred"] <= 30                                     # pairs do not pile up
    # 300 frames last ~10 s: its quarter windows hold a few samples, and one frame-sized buffer (~4 MiB) is 4 %
    # of ~100 MiB; a leak of the kind the soak benchmark looks for (over thousands of frames, limit 5 %) shows
    # as growth proportional to frames, so the short run is held to 10 % (measured alone: 1.4 %; once 5+ %
    # under a loaded suite)
    assert a["memory_growth_pct"] <= 10, a
    after = [x for x in r["samples"] if x["frames"] >= a["warmup_frames"]]
    assert len(after) >= 4
    rate = [(y["frames"] - x["frames"]) / (y["t_s"] - x["t_s"]) for x, y in zip(after, after[1:])]
    first, last = _halves(rate)
    assert np.mean(last) >= 0.5 * np.mean(first) > 0                   # output steady, not slowing down
