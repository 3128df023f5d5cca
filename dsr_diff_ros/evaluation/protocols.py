"""Evaluation protocols: how the LR input is made, which pixels count, which unit is reported; and the run loop
that feeds the same LR input to every method in the same run.

Protocols
- ``nyu``:        NYU v2 labeled, last 449 images; LR = PIL bicubic down-sampling; 6-pixel border crop; RMSE in cm.
- ``middlebury`` / ``lu``: folder of png pairs on the 0-255 scale; LR = PIL bicubic; no crop; errors on the 0-255
                  scale (values rounded to integers as in the reference code's uint8 cast).
- ``sensor``:     this project's low-cost-sensor protocol on any RGBDFolder: LR = ``degrade(mode="sensor")``
                  (noise, quantisation, holes, flying pixels; seeded per frame and scale) and also
                  ``mode="bicubic"``; scored on valid GT pixels only; errors in cm.

A *method* is ``f(depth_lr, rgb, depth_gt) -> depth_hr`` (metres in, metres out; the GT argument is only used by
the oracle). Data on the 0-255 scale is multiplied by ``model_scale`` (metres per unit) before the methods run
and divided back before scoring, so a network trained in metres sees a plausible range.
"""
from __future__ import annotations

import logging
import time
import zlib
from dataclasses import dataclass, field, asdict
from typing import Callable, Iterable, Optional

import numpy as np

from ..data.degradations import degrade
from . import baselines as B
from .metrics import METRIC_KEYS, aggregate, compute_metrics

log = logging.getLogger(__name__)
Method = Callable[[np.ndarray, np.ndarray, Optional[np.ndarray]], np.ndarray]


@dataclass
class Protocol:
    name: str
    modes: tuple = ("bicubic",)     # degradations run (see data.degradations.degrade)
    unit: str = "cm"                # metrics unit
    crop: int = 0                   # border pixels ignored
    quantize: bool = False          # round to integers before scoring (0-255 protocols)
    model_scale: float = 1.0        # metres per data unit fed to the methods
    edge_width: int = 2             # half-width (pixels) of the edge band for edge RMSE

    def to_dict(self) -> dict:
        return asdict(self)


PROTOCOLS = {
    "nyu": Protocol("nyu", ("bicubic",), "cm", crop=6),
    "middlebury": Protocol("middlebury", ("bicubic",), "255", quantize=True, model_scale=4.0 / 255.0),
    "lu": Protocol("lu", ("bicubic",), "255", quantize=True, model_scale=4.0 / 255.0),
    "sensor": Protocol("sensor", ("sensor", "bicubic"), "cm"),
}


def get_protocol(name: str, **overrides) -> Protocol:
    if name not in PROTOCOLS:
        raise KeyError(f"unknown protocol {name!r} (known: {', '.join(PROTOCOLS)})")
    p = PROTOCOLS[name]
    return Protocol(**{**p.to_dict(), **{k: v for k, v in overrides.items() if v is not None}})


def frame_seed(*parts) -> int:
    """A stable seed from names/scales, so every method and every run sees the same sensor noise."""
    return zlib.crc32("/".join(map(str, parts)).encode())


def make_lr(depth_hr: np.ndarray, scale: float, mode: str, seed: int = 0) -> np.ndarray:
    """LR input of a protocol: (H, W) metres (0 invalid) -> (round(H/s), round(W/s)) float32, 0 invalid."""
    return degrade(depth_hr, scale, mode=mode, rng=np.random.default_rng(seed))


# ----------------------------------------------------------------------------------------------- methods
def baseline_method(name: str, **kw) -> Method:
    f = B.get_method(name)
    return lambda lr, rgb, gt=None: f(lr, rgb, **kw)


def upscaler_method(up, steps: int | None = None, ensemble: int | None = None) -> Method:
    """'ours': the Upscaler with GRN-recovered guidance (fill_holes=True: a dense output like the baselines);
    ``ensemble`` None: the Upscaler's default self-ensemble."""
    kw = {} if ensemble is None else {"ensemble": ensemble}
    return lambda lr, rgb, gt=None: up.upscale(lr, rgb, steps=steps, fill_holes=True, **kw)


def oracle_method(up, steps: int | None = None, ensemble: int | None = None) -> Optional[Method]:
    """'oracle': the model with GGN guidance computed from the HR ground truth (upper bound), or None when the
    Upscaler offers no ``upscale_oracle``. ``ensemble`` as for 'ours' (None: the Upscaler's default)."""
    fn = getattr(up, "upscale_oracle", None)
    if fn is None:
        return None

    import inspect
    try:
        takes = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes = {}
    kw = {"ensemble": ensemble} if ensemble is not None and "ensemble" in takes else {}

    def run(lr, rgb, gt=None):
        if gt is None:
            raise ValueError("the oracle needs the HR ground truth")
        g = np.where(np.isfinite(gt) & (gt > 0), gt, 0).astype(np.float32)
        # GGN guidance does not depend on the diffusion steps; pass them only if the API takes them
        return fn(lr, rgb, g, steps=steps, **kw) if "steps" in takes else fn(lr, rgb, g, **kw)
    return run


def build_methods(names: Iterable[str], upscaler=None, steps: int | None = None,
                  notes: Optional[list] = None, ensemble: int | None = None) -> dict[str, Method]:
    """Methods by name: the baselines, 'ours' and 'oracle' (these two need ``upscaler``; skipped with a note
    appended to ``notes`` when it is None or lacks the oracle)."""
    notes = notes if notes is not None else []
    out: dict[str, Method] = {}
    for n in names:
        if n == "ours":
            if upscaler is None:
                notes.append("ours skipped: no Upscaler (weights missing?)")
                continue
            out[n] = upscaler_method(upscaler, steps, ensemble)
        elif n == "oracle":
            m = oracle_method(upscaler, steps, ensemble) if upscaler is not None else None
            if m is None:
                notes.append("oracle skipped: " + ("no Upscaler" if upscaler is None
                                                   else "Upscaler has no upscale_oracle()"))
                continue
            out[n] = m
        else:
            out[n] = baseline_method(n)
    return out


# ----------------------------------------------------------------------------------------------- run loop
@dataclass
class EvalResult:
    protocol: Protocol
    rows: list = field(default_factory=list)       # one per (dataset, frame, mode, scale, method)
    errors: list = field(default_factory=list)     # (where, message): skipped frames, failed methods
    notes: list = field(default_factory=list)      # skipped methods and other remarks
    examples: list = field(default_factory=list)   # dicts with arrays for the figures
    config: dict = field(default_factory=dict)

    def summary(self) -> list[dict]:
        """Mean metrics and median time per (mode, scale, method), in first-seen order."""
        groups: dict[tuple, list] = {}
        for r in self.rows:
            if "rmse" in r:
                groups.setdefault((r["mode"], r["scale"], r["method"]), []).append(r)
        out = []
        for (mode, scale, method), rs in groups.items():
            a = aggregate(rs, METRIC_KEYS)
            a.update(mode=mode, scale=scale, method=method,
                     time_ms=float(np.median([r["time_ms"] for r in rs])), unit=self.protocol.unit)
            out.append(a)
        return out


def _iterate(sources, max_frames):
    for ds_name, src in sources:
        n = 0
        for s in src:
            if max_frames and n >= max_frames:
                break
            n += 1
            yield ds_name, s


def evaluate(sources: list, methods: dict[str, Method], scales=(4, 8, 16), protocol: Protocol | str = "sensor",
             modes: Optional[Iterable[str]] = None, max_frames: int | None = None, progress: bool = True,
             n_examples: int = 1, seed: int = 0) -> EvalResult:
    """Run every method on every frame x mode x scale with the same LR input, and score it.

    sources: [(dataset name, iterable of RGBDSample with ``.errors``)]; a sample that fails to load is
    reported by the source and skipped; a method that raises on a frame is reported in ``errors`` and the
    run goes on. n_examples: frames per dataset whose arrays are kept for figures.
    """
    proto = get_protocol(protocol) if isinstance(protocol, str) else protocol
    modes = tuple(modes or proto.modes)
    res = EvalResult(proto, config={"scales": list(scales), "modes": list(modes), "methods": list(methods),
                                    "max_frames": max_frames, "seed": seed, "protocol": proto.to_dict()})
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        tqdm = None
    it = _iterate(sources, max_frames)
    if progress and tqdm is not None:
        it = tqdm(it, desc=f"eval[{proto.name}]", unit="frame")
    kept: dict[str, int] = {}
    for ds_name, s in it:
        if 2 * proto.crop >= min(s.depth.shape[:2]):  # metrics over an empty mask: rows of NaN
            res.errors.append((f"{ds_name}/{s.name}", f"border crop of {proto.crop} px leaves no pixel of the "
                               f"{s.depth.shape[1]}x{s.depth.shape[0]} frame; frame skipped"))
            continue
        gt = s.depth.astype(np.float32) * np.float32(proto.model_scale)
        keep = kept.get(ds_name, 0) < n_examples
        for mode in modes:
            for scale in scales:
                where = f"{ds_name}/{s.name} x{scale} {mode}"
                lr = make_lr(gt, scale, mode, frame_seed(seed, ds_name, s.name, mode, scale))
                if not (lr > 0).any():
                    res.errors.append((where, "degraded depth has no valid pixel; frame skipped at this scale"))
                    continue
                ex = {"dataset": ds_name, "frame": s.name, "mode": mode, "scale": scale, "rgb": s.rgb,
                      "gt": s.depth.astype(np.float16), "lr": (lr / proto.model_scale).astype(np.float16),
                      "preds": {}} if keep else None
                for mname, fn in methods.items():
                    t0 = time.perf_counter()
                    try:
                        pred = np.asarray(fn(lr, s.rgb, gt), np.float32)
                    except Exception as e:  # one method failing must not end the run
                        res.errors.append((f"{where} {mname}", f"{type(e).__name__}: {e}"))
                        continue
                    dt = (time.perf_counter() - t0) * 1000.0
                    if pred.shape != gt.shape:
                        res.errors.append((f"{where} {mname}", f"output size {pred.shape} != GT size {gt.shape}"))
                        continue
                    pred = pred / np.float32(proto.model_scale)
                    m = compute_metrics(pred, s.depth, crop=proto.crop, unit=proto.unit,
                                        edge_width=proto.edge_width, quantize=proto.quantize)
                    res.rows.append({"dataset": ds_name, "frame": s.name, "mode": mode, "scale": scale,
                                     "method": mname, "time_ms": dt, **m})
                    if ex is not None:
                        ex["preds"][mname] = pred.astype(np.float16)  # figures only: half the memory
                if ex is not None:
                    res.examples.append(ex)
        if keep:
            kept[ds_name] = kept.get(ds_name, 0) + 1
    for ds_name, src in sources:
        for name, msg in getattr(src, "errors", []):
            res.errors.append((f"{ds_name}/{name}", msg))
    for where, msg in res.errors:
        log.warning("skipped %s: %s", where, msg)
    return res


def load_upscaler(weights: str | None = None, device: str = "auto", notes: Optional[list] = None):
    """The Upscaler (``weights`` = name or path, None = shipped default), or None with a note when the weights
    or the inference module are missing (the baselines still run)."""
    notes = notes if notes is not None else []
    try:
        from ..inference import Upscaler
    except ImportError as e:
        notes.append(f"ours/oracle skipped: dsr_diff_ros.inference not importable ({e})")
        return None
    try:
        return Upscaler.from_pretrained(weights, device=device)
    except (FileNotFoundError, OSError, KeyError, ValueError, RuntimeError) as e:
        notes.append(f"ours/oracle skipped: weights {weights or '(default)'} not loadable ({type(e).__name__}: {e})")
        return None


def methods_for(names: Iterable[str], weights: str | None = None, device: str = "auto", steps: int | None = None,
                notes: Optional[list] = None, need_model: bool = False, ensemble: int | None = None):
    """(upscaler or None, {name: method}): loads and warms up the Upscaler when 'ours'/'oracle' is asked for (or
    ``need_model``), then ``build_methods``. Raises KeyError for an unknown method name."""
    names = list(names)
    up = None
    if need_model or {"ours", "oracle"} & set(names):
        up = load_upscaler(weights, device, notes)
        if up is not None and hasattr(up, "warmup"):
            up.warmup()
    return up, build_methods(names, up, steps, notes, ensemble)
