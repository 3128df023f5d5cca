"""Per-frame quality metrics of a replay, for the model and the baselines on the same frames.

* against ground truth (when given): ``evaluation.metrics.compute_metrics`` (RMSE, MAE, AbsRel, deltas, ...);
* self-consistency: the output area-down-sampled back to the input grid vs the input (valid pixels of both);
* temporal stability: mean |out_t - out_{t-1}| on *static* pixels, those where the input barely changes
  (both LR values valid and within ``max(abs_thr, rel_thr * z)``), mapped to the output grid;
* valid-pixel gain: valid fraction of the output minus valid fraction of the input;
* latency (ms).

Depth arrays are float32 metres, 0 or NaN invalid.
"""
from __future__ import annotations

from array import array
from typing import Iterator, Optional

import cv2
import numpy as np

from ..evaluation.metrics import compute_metrics


def valid(d: np.ndarray) -> np.ndarray:
    """True where depth is finite and > 0."""
    return np.isfinite(d) & (np.nan_to_num(d, nan=0.0) > 0)


def valid_ratio(d: np.ndarray) -> float:
    return float(valid(d).mean()) if d.size else float("nan")


def downsample_to(pred: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Area down-sampling of the valid pixels of ``pred`` to (h, w); 0 where fewer than half were valid."""
    v = valid(pred)
    p = np.where(v, pred, 0).astype(np.float32)
    num = cv2.resize(p, (hw[1], hw[0]), interpolation=cv2.INTER_AREA)
    den = cv2.resize(v.astype(np.float32), (hw[1], hw[0]), interpolation=cv2.INTER_AREA)
    return np.where(den >= 0.5, num / np.maximum(den, 1e-6), 0).astype(np.float32)


def self_consistency(pred: np.ndarray, lr: np.ndarray) -> dict:
    """RMSE/MAE (m) between ``pred`` down-sampled to the input grid and the input ``lr``."""
    back = downsample_to(pred, lr.shape)
    m = valid(back) & valid(lr)
    if not m.any():
        return {"sc_rmse": float("nan"), "sc_mae": float("nan"), "sc_n": 0}
    e = back[m].astype(np.float64) - lr[m].astype(np.float64)
    return {"sc_rmse": float(np.sqrt(np.mean(e ** 2))), "sc_mae": float(np.mean(np.abs(e))), "sc_n": int(m.sum())}


def static_mask(lr_prev: np.ndarray, lr: np.ndarray, abs_thr: float = 0.01, rel_thr: float = 0.01) -> np.ndarray:
    """LR pixels valid in both frames whose depth changed by less than ``max(abs_thr, rel_thr * z)``."""
    if lr_prev.shape != lr.shape:
        return np.zeros(lr.shape, bool)
    m = valid(lr_prev) & valid(lr)
    z = np.where(m, lr, 0)
    return m & (np.abs(np.where(m, lr - lr_prev, np.inf)) < np.maximum(abs_thr, rel_thr * z))


def temporal_change(prev: np.ndarray, cur: np.ndarray, mask_lr: np.ndarray) -> tuple[float, int]:
    """Mean |cur - prev| (m) over the output pixels whose LR source is static (and valid in both outputs)."""
    if prev.shape != cur.shape or not mask_lr.any():
        return float("nan"), 0
    m = cv2.resize(mask_lr.astype(np.uint8), (cur.shape[1], cur.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    m &= valid(prev) & valid(cur)
    if not m.any():
        return float("nan"), 0
    return float(np.mean(np.abs(cur[m].astype(np.float64) - prev[m]))), int(m.sum())


class FrameTable:
    """Per-frame rows stored as typed columns (8 bytes a value + 1 presence byte, ~0.2 KiB a frame) instead of
    a dict per frame (~1.4 KiB): a long replay's memory grows by a few hundred bytes a frame and method. Reads
    like the list of row dicts it replaces (``len``, iteration, indexing), plus ``column(key)``."""

    def __init__(self):
        self.n = 0
        self._cols: dict[str, tuple[array, array]] = {}   # key -> (values 'q'/'d', present 'b')

    def append(self, row: dict) -> None:
        for k, v in row.items():
            if v is None:
                continue
            c = self._cols.get(k)
            exact = isinstance(v, (int, np.integer))
            if c is None:
                c = self._cols[k] = (array("q" if exact else "d", bytes(8 * self.n)), array("b", bytes(self.n)))
            elif c[0].typecode == "q" and not exact:             # an int column meets a float: widen it
                c = self._cols[k] = (array("d", (float(x) for x in c[0])), c[1])
            c[0].append(int(v) if c[0].typecode == "q" else float(v))
            c[1].append(1)
        self.n += 1
        for vals, present in self._cols.values():
            if len(present) < self.n:
                vals.append(0)
                present.append(0)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        if not -self.n <= i < self.n:
            raise IndexError(i)
        i %= self.n
        return {k: v[i] for k, (v, p) in self._cols.items() if p[i]}

    def __iter__(self) -> Iterator[dict]:
        return (self[i] for i in range(self.n))

    def column(self, key: str) -> np.ndarray:
        """float64 values of ``key`` per frame, NaN where the frame has none."""
        if key not in self._cols:
            return np.full(self.n, np.nan)
        v, p = self._cols[key]
        return np.where(np.frombuffer(p, np.int8) > 0, np.asarray(v, np.float64), np.nan)


class MethodTracker:
    """Accumulates the per-frame rows of one method (keeps its previous output for temporal stability)."""

    def __init__(self, name: str, abs_thr: float = 0.01, rel_thr: float = 0.01):
        self.name = name
        self.rows = FrameTable()
        self.abs_thr, self.rel_thr = abs_thr, rel_thr
        self._prev: Optional[tuple[np.ndarray, np.ndarray]] = None

    def update(self, index: int, stamp_ns: int, pred: np.ndarray, lr: np.ndarray, gt: Optional[np.ndarray],
               latency_ms: float) -> dict:
        """Score one frame; returns (and stores) its row."""
        row = {"index": index, "stamp_ns": int(stamp_ns), "latency_ms": float(latency_ms),
               "valid_in": valid_ratio(lr), "valid_out": valid_ratio(pred)}
        row["valid_gain"] = row["valid_out"] - row["valid_in"]
        row.update(self_consistency(pred, lr))
        if gt is not None:
            row.update(compute_metrics(pred, gt))
        if self._prev is not None:
            lr_prev, pred_prev = self._prev
            mask = static_mask(lr_prev, lr, self.abs_thr, self.rel_thr)
            row["temporal"], row["temporal_n"] = temporal_change(pred_prev, pred, mask)
            row["static_frac"] = float(mask.mean())
        self._prev = (lr, pred)
        self.rows.append(row)
        return row


def column(rows, key: str) -> np.ndarray:
    """Per-frame values of ``key`` (NaN where absent) from a FrameTable or a list of row dicts."""
    if isinstance(rows, FrameTable):
        return rows.column(key)
    return np.array([r[key] if r.get(key) is not None else np.nan for r in rows], np.float64)


SUMMARY_KEYS = ("rmse", "mae", "absrel", "delta1", "edge_rmse", "coverage", "sc_rmse", "sc_mae", "temporal",
                "valid_out", "valid_gain", "latency_ms")


def summarize(rows) -> dict:
    """Mean over frames of each metric (NaN entries ignored) + latency p50/p95 and the frame count
    (``rows``: a FrameTable or a list of row dicts)."""
    out: dict = {"n_frames": len(rows)}
    for k in SUMMARY_KEYS:
        vals = column(rows, k)
        vals = vals[np.isfinite(vals)]
        out[k] = float(vals.mean()) if len(vals) else None
    lat = column(rows, "latency_ms")
    out["latency_p50_ms"] = float(np.percentile(lat, 50)) if len(lat) else None
    out["latency_p95_ms"] = float(np.percentile(lat, 95)) if len(lat) else None
    return out
