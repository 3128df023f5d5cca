"""Upscaler: the only door into the networks (weights, device, precision, pre/post-processing, steps)."""
from __future__ import annotations

import hashlib
import os
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import Union

import numpy as np
import torch

from .evaluation.baselines import fill_nearest
from .geometry import LOW_RATIO, upscale_ratio
from .model.checkpoint import WeightsError, load_weights, paths_for
from .model.degradation import image_noise
from .model.ensemble import SIZES, batches, transforms
from .routing import HoleFill, Routing, parse_routing

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_WEIGHTS = "dsr_diff_default"

ArrayOrTensor = Union[np.ndarray, torch.Tensor]


def resolve_weights(name_or_path: str | os.PathLike | None) -> Path:
    """None -> the shipped default; a bare name -> dsr_diff_ros/weights/<name>; otherwise a path."""
    if name_or_path is None:
        name_or_path = DEFAULT_WEIGHTS
    p = Path(name_or_path)
    candidates = [p] if (p.suffix or os.sep in str(name_or_path)) else [WEIGHTS_DIR / p, p]
    for c in candidates:
        st, js = paths_for(c)
        if st.exists() or js.exists():
            return st
    shipped = sorted(x.stem for x in WEIGHTS_DIR.glob("*.safetensors"))
    raise FileNotFoundError(f"weights {str(name_or_path)!r} not found (shipped: {shipped or 'none'})")


def select_device(device: str | torch.device = "auto") -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    d = torch.device(device)
    if d.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but CUDA is not available (use device='auto' or 'cpu')")
    return d


def _gate_tag(model: torch.nn.Module) -> str:
    """The planar-region gate lives in the weights' JSON, not in their hash: name it in the model id."""
    tau = float(getattr(model.cfg, "flat_gate", 0.0))
    return f"~flat{tau:g}" if tau > 0 else ""


class Upscaler:
    """Colour-guided depth super-resolution with DSR-Diff.

    >>> up = Upscaler.from_pretrained()                 # shipped default, CUDA when available
    >>> hr = up.upscale(depth_lr_m, rgb_u8, steps=2)   # (h,w) float32 m + (H,W,3) uint8 -> (H,W) float32 m
    >>> fast = up.upscale(depth_lr_m, rgb_u8, ensemble=1)   # one pass instead of the default self-ensemble

    Self-ensemble: ``upscale`` returns the mean over ``default_ensemble`` (the weights' JSON; 8 for the shipped
    model) flipped / transposed copies of its input (``model.ensemble``), one network run each; the output is float32.

    Two experts (optional): ``model`` is trained for real sensors (noise, holes, misregistered colour);
    ``clean`` for clean inputs (the field's bicubic protocols, rendered depth). Each frame goes to ``clean`` when
    its measured noise (``model.degradation.image_noise``: sigma as a fraction of the farthest depth) is at most
    ``clean_max_sigma`` and at least ``clean_min_valid`` of its LR pixels are valid (sensors leave holes), else
    to ``model``. Clean frames may further go by scale band: ``clean_bands`` holds (max_ratio, name, expert)
    entries; a call whose ratio (output / input size, geometric mean of both axes) is at most an entry's
    max_ratio uses the first such expert instead of ``clean``, with that band's noise limit when
    ``clean_band_sigma`` has one for its name (the measured noise of clean input grows with the ratio).
    ``experts()`` says which expert each frame gets. The weights JSON of ``model`` names them
    (``"clean_expert": {"weights": NAME, "max_sigma": S, "min_valid": V, "name": LABEL, "bands": [{"weights":
    NAME, "max_ratio": R, "name": LABEL, "max_sigma": S}, ...]}``; band names and noise limits optional);
    A third expert (optional), ``holes``, takes the frames that are not clean and have fewer than
    ``holes_max_valid`` of their LR pixels valid (a sensor's holes) in calls whose ratio is at most
    ``holes_max_ratio``; the JSON names it as ``"holes_expert": {"weights": NAME, "max_valid": V, "name": LABEL,
    "max_ratio": R}`` (``max_ratio`` optional, default: every ratio). ``model`` then keeps the hole-free noisy
    frames (heavy noise, hole-filled sensor depth) and the frames with holes above ``holes_max_ratio``.
    ``from_pretrained(..., experts=False)`` loads the sensor expert alone.

    Before routing, a frame with fewer than ``hole_fill_max_valid`` of its LR pixels valid (half the image
    missing: the bicubic protocol on ground truth with holes, whose support dilates every hole) has its holes
    filled with the nearest valid pixel and goes on as a hole-free frame; the experts learnt sensors' holes, not
    half an image missing (``bench/calibrate_hole_fill.py``). The JSON sets it as ``"hole_fill": {"max_valid": V}``
    (default 0: never); ``fill_holes=False`` still blanks the output where the input had no depth nearby.
    With a self-ensemble (2+ copies), a frame that keeps its holes and has fewer than ``hole_hedge_max_valid`` of
    its LR pixels valid is *hedged*: every second copy runs on the frame nearest-filled (routed as hole-free), so
    the output averages the expert for its holes and the hole-free path at the cost of the same passes (JSON
    ``"hole_fill": {"max_valid": V, "hedge_max_valid": H}``; default 0: never).
    A fourth expert (optional), ``sparse``, takes the frames that run hole-filled (either way) and had fewer than
    ``sparse_max_valid`` of their LR pixels valid, in calls whose ratio is above ``sparse_min_ratio``, whatever their
    noise: half an image filled from its nearest pixels, which the hole-free experts did not learn. JSON:
    ``"sparse_expert": {"weights": NAME, "max_valid": V, "min_ratio": R, "name": LABEL}``.
    """

    def __init__(self, model: torch.nn.Module, config: dict, device: torch.device, precision: str = "auto",
                 model_id: str = "dsr_diff", clean: torch.nn.Module | None = None, clean_max_sigma: float = 0.0,
                 clean_min_valid: float = 0.999, clean_bands=(), clean_name: str = "clean",
                 clean_band_sigma: dict | None = None, holes: torch.nn.Module | None = None,
                 holes_max_valid: float = 0.999, holes_name: str = "sensor_holes",
                 holes_max_ratio: float = float("inf"), ensemble: int | None = None,
                 hole_fill_max_valid: float = 0.0, hole_hedge_max_valid: float = 0.0,
                 sparse: torch.nn.Module | None = None, sparse_max_valid: float = 0.0, sparse_min_ratio: float = 1.0,
                 sparse_name: str = "sparse"):
        self.device = device
        self.config = config
        self.model_id = model_id
        if precision == "auto":
            precision = "fp16" if device.type == "cuda" else "fp32"
        if precision not in ("fp32", "fp16", "bf16"):
            raise ValueError(f"precision must be auto|fp32|fp16|bf16, got {precision!r}")
        if precision != "fp32" and device.type != "cuda":
            warnings.warn(f"precision {precision} runs on CUDA only; {device} runs fp32", UserWarning, stacklevel=2)
            precision = "fp32"
        self.precision = precision
        self.model = model.to(device).eval().to(memory_format=torch.channels_last)
        ready = lambda m: m.to(device).eval().to(memory_format=torch.channels_last)  # noqa: E731
        self.clean = ready(clean) if clean is not None else None
        self.clean_name = str(clean_name)
        if clean_bands and clean is None:
            raise ValueError("clean_bands need a clean expert (for the ratios outside every band)")
        self.clean_bands = sorted(((float(r), str(n), ready(m)) for r, n, m in clean_bands), key=lambda b: b[0])
        self.holes = ready(holes) if holes is not None else None
        self.holes_max_valid, self.holes_name = float(holes_max_valid), str(holes_name)
        self.holes_max_ratio = float(holes_max_ratio)
        if not self.holes_max_ratio > 1:
            raise ValueError(f"holes_max_ratio must be > 1, got {holes_max_ratio}")
        self.sparse = ready(sparse) if sparse is not None else None
        self.sparse_max_valid, self.sparse_name = float(sparse_max_valid), str(sparse_name)
        self.sparse_min_ratio = float(sparse_min_ratio)
        if not 0.0 <= self.sparse_max_valid <= 1.0:
            raise ValueError(f"sparse_max_valid must be in [0, 1], got {sparse_max_valid}")
        for m in [clean, holes, sparse] + [m for *_, m in self.clean_bands]:
            if m is not None and (m.cfg.unshuffle, m.cfg.z_ch, m.cfg.timesteps) != (
                    model.cfg.unshuffle, model.cfg.z_ch, model.cfg.timesteps):
                raise WeightsError("the clean, holes and sparse experts must share the working grid, prior channels and "
                                   "steps of the model")
        self.clean_max_sigma, self.clean_min_valid = float(clean_max_sigma), float(clean_min_valid)
        self.hole_fill_max_valid = float(hole_fill_max_valid)
        if not 0.0 <= self.hole_fill_max_valid <= 1.0:
            raise ValueError(f"hole_fill_max_valid must be in [0, 1], got {hole_fill_max_valid}")
        self.hole_hedge_max_valid = float(hole_hedge_max_valid)
        if not 0.0 <= self.hole_hedge_max_valid <= 1.0:
            raise ValueError(f"hole_hedge_max_valid must be in [0, 1], got {hole_hedge_max_valid}")
        self.clean_band_sigma = {str(k): float(v) for k, v in (clean_band_sigma or {}).items()}
        self.num_steps = int(model.cfg.timesteps)
        self.default_steps = int(config.get("default_steps", self.num_steps))
        self.default_ensemble = self._ensemble(ensemble if ensemble is not None else config.get("default_ensemble", 1))
        # self-ensemble copies per network pass: on a GPU 4 (one batch per orientation; 8 copies of a 640x480
        # frame in 39-46 ms instead of 94-139 on one H200), on a CPU 1 (slower there, and more peak memory)
        self.ensemble_batch = 4 if device.type == "cuda" else 1

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike | None = None, device: str | torch.device = "auto",
                        precision: str = "auto", experts: bool = True, ensemble: int | None = None) -> "Upscaler":
        """Load weights (a shipped name or a path) and, when their JSON names them and ``experts``, the clean and
        holes experts (looked up next to them, then among the shipped weights). ``ensemble``: the default
        self-ensemble size of ``upscale`` (1, 2, 4 or 8; None: the JSON's ``default_ensemble``, else 1)."""
        st = resolve_weights(name_or_path)
        dev = select_device(device)
        model, cfg = load_weights(st)
        model_id = f"{st.stem}@{hashlib.sha256(st.read_bytes()).hexdigest()[:10]}" + _gate_tag(model)
        de = cfg.get("default_ensemble", 1)
        if isinstance(de, bool) or de not in SIZES:
            raise WeightsError(f"{st.with_suffix('.json')}: default_ensemble must be one of {SIZES}, got {de!r}")
        route = parse_routing(cfg, str(st.with_suffix(".json"))) if experts else Routing()

        def load(nm: str):
            """An expert named in the JSON (next to it, else a shipped name) and its model-id tag."""
            cst = paths_for(st.parent / nm)[0]
            cst = cst if cst.exists() else resolve_weights(nm)
            m = load_weights(cst)[0]
            return m, f"+{cst.stem}@{hashlib.sha256(cst.read_bytes()).hexdigest()[:10]}" + _gate_tag(m)
        kw = {}
        if route.clean:
            c = route.clean
            kw["clean"], tag = load(c.weights)
            model_id += tag
            kw.update(clean_max_sigma=c.max_sigma, clean_min_valid=c.min_valid, clean_name=c.name, clean_bands=[],
                      clean_band_sigma={b.name: b.max_sigma for b in c.bands if b.max_sigma is not None})
            for b in c.bands:
                m, tag = load(b.weights)
                kw["clean_bands"].append((b.max_ratio, b.name, m))
                model_id += tag
        if route.holes:
            h = route.holes
            kw["holes"], tag = load(h.weights)
            model_id += tag
            kw.update(holes_max_valid=h.max_valid, holes_name=h.name, holes_max_ratio=h.max_ratio)
        fill = route.fill or HoleFill()
        if route.fill:
            model_id += f"+fill{fill.max_valid:g}" + (f"+hedge{fill.hedge_max_valid:g}" if fill.hedge_max_valid else "")
        if route.sparse:
            sp = route.sparse
            kw["sparse"], tag = load(sp.weights)
            model_id += tag + f"+sparse{sp.max_valid:g}"
            kw.update(sparse_max_valid=sp.max_valid, sparse_min_ratio=sp.min_ratio, sparse_name=sp.name)
        return cls(model, cfg, dev, precision, model_id=model_id, ensemble=ensemble,
                   hole_fill_max_valid=fill.max_valid, hole_hedge_max_valid=fill.hedge_max_valid, **kw)

    # -- inputs ------------------------------------------------------------------------------------------
    @staticmethod
    def _check_numpy(depth: np.ndarray, rgb: np.ndarray) -> None:
        if not isinstance(depth, np.ndarray) or depth.ndim != 2 or depth.size == 0:
            raise ValueError(f"depth must be a non-empty (h, w) array in metres, got {getattr(depth, 'shape', type(depth))}")
        if depth.dtype.kind not in "fiu":
            raise ValueError(f"depth must be a float array in metres, got dtype {depth.dtype}")
        if depth.dtype.kind in "iu":
            warnings.warn(f"depth is {depth.dtype}: its values are taken as they are (metres expected; REP 118 16UC1 "
                          "depth is millimetres: divide by 1000) and the output is in the same unit", UserWarning,
                          stacklevel=6)
        if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"rgb must be an (H, W, 3) uint8 array, got {getattr(rgb, 'shape', None)} "
                             f"{getattr(rgb, 'dtype', type(rgb))}")
        if rgb.shape[0] < depth.shape[0] or rgb.shape[1] < depth.shape[1]:
            raise ValueError(f"rgb {rgb.shape[1]}x{rgb.shape[0]} is smaller than depth {depth.shape[1]}x{depth.shape[0]}:"
                             " the output grid is the colour image")

    def _autocast(self):
        if self.device.type == "cuda" and self.precision in ("fp16", "bf16"):
            return torch.autocast("cuda", dtype=torch.float16 if self.precision == "fp16" else torch.bfloat16)
        return nullcontext()

    def _to_tensors(self, depth_lr: ArrayOrTensor, rgb: ArrayOrTensor):
        if isinstance(depth_lr, np.ndarray):
            self._check_numpy(depth_lr, rgb)
            d = torch.from_numpy(np.ascontiguousarray(depth_lr, dtype=np.float32))[None, None]
            r = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float().div_(255)
            return d.to(self.device), r.to(self.device), True
        if not (isinstance(depth_lr, torch.Tensor) and isinstance(rgb, torch.Tensor)):
            raise ValueError(f"depth and rgb must both be NumPy arrays or both torch tensors, got "
                             f"{type(depth_lr).__name__} and {type(rgb).__name__}")
        if depth_lr.ndim != 4 or depth_lr.shape[1] != 1 or rgb.ndim != 4 or rgb.shape[1] != 3:
            raise ValueError("tensor inputs must be depth (B,1,h,w) metres and rgb (B,3,H,W) in [0,1], got "
                             f"{tuple(depth_lr.shape)} and {tuple(rgb.shape)}")
        (b, _, h, w), (rb, _, rh, rw) = depth_lr.shape, rgb.shape
        if b != rb or b == 0 or h == 0 or w == 0:
            raise ValueError(f"depth {tuple(depth_lr.shape)} and rgb {tuple(rgb.shape)} must hold the same number "
                             "(> 0) of non-empty frames")
        if rh < h or rw < w:
            raise ValueError(f"rgb {rw}x{rh} is smaller than depth {w}x{h}: the output grid is the colour image")
        if depth_lr.dtype == torch.bool or depth_lr.is_complex():
            raise ValueError(f"depth must be a float tensor in metres, got {depth_lr.dtype}")
        if rgb.dtype == torch.uint8:
            rgb = rgb.to(self.device).float() / 255
        elif rgb.is_floating_point():
            rgb = rgb.to(self.device).float()
            lo, hi = torch.aminmax(rgb)
            if not (torch.isfinite(lo) and torch.isfinite(hi)):
                raise ValueError("rgb contains NaN or Inf")
            if lo < -1e-3 or hi > 1 + 1e-3:
                raise ValueError(f"a float rgb tensor must be in [0, 1], got [{lo.item():.3g}, {hi.item():.3g}] "
                                 "(divide 0-255 values by 255, or pass uint8)")
        else:
            raise ValueError(f"rgb must be a uint8 tensor or a float one in [0, 1], got {rgb.dtype}")
        return depth_lr.to(self.device).float(), rgb, False

    def _steps(self, steps: int | None) -> int:
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer))):
            raise ValueError(f"steps must be an int in 1..{self.num_steps}, got {steps!r}")
        s = self.default_steps if steps is None else int(steps)
        if not 1 <= s <= self.num_steps:
            raise ValueError(f"steps must be in 1..{self.num_steps}, got {steps}")
        return s

    @staticmethod
    def _seed(seed) -> int | None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed must be an int or None, got {seed!r}")
        return None if seed is None else int(seed)

    def _ensemble(self, n) -> int:
        """The self-ensemble size (None: the default); ValueError unless 1, 2, 4 or 8."""
        if n is None:
            return self.default_ensemble
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise ValueError(f"ensemble must be an int in 1, 2, 4, 8, got {n!r}")
        transforms(int(n))
        return int(n)

    def _guidance_in(self, g: ArrayOrTensor, batch: int) -> torch.Tensor:
        """A given prior as (B, z_ch, h_z, w_z) on the device; NumPy (z_ch, h_z, w_z) is accepted for one frame."""
        t = torch.as_tensor(g, dtype=torch.float32).to(self.device)
        if t.ndim == 3:
            t = t[None]
        zc = self.model.cfg.z_ch
        if t.ndim != 4 or t.shape[1] != zc or t.shape[0] not in (1, batch) or t.shape[-1] == 0 or t.shape[-2] == 0:
            raise ValueError(f"guidance must be ({zc}, h, w) or (B, {zc}, h, w) with B = {batch}, got {tuple(t.shape)}")
        if not torch.isfinite(t).all():
            raise ValueError("guidance contains NaN or Inf")
        return t.expand(batch, -1, -1, -1)

    # -- experts ---------------------------------------------------------------------------------------------
    def _fill_sparse(self, d: torch.Tensor, max_valid: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(``d`` with the holes of each frame that has some but fewer than ``max_valid`` (default
        ``hole_fill_max_valid``) valid LR pixels filled from the nearest valid one (the frame then routes and runs
        as hole-free), else ``d`` itself; (B,) bool: the frames filled, for the sparse expert)."""
        max_valid = self.hole_fill_max_valid if max_valid is None else max_valid
        share = _valid_share(d)
        sel = (share > 0) & (share < max_valid)
        if not sel.any():
            return d, sel
        out = d.clone()
        for i in torch.nonzero(sel).flatten().tolist():
            out[i, 0] = torch.from_numpy(fill_nearest(d[i, 0].float().cpu().numpy())).to(d.device, d.dtype)
        return out, sel

    def _sparse_mask(self, filled: torch.Tensor, share: torch.Tensor, d: torch.Tensor, r: torch.Tensor):
        """(B,) bool: frames for the sparse expert: run filled, fewer than ``sparse_max_valid`` valid LR pixels as
        given (``share``), a ratio above ``sparse_min_ratio``."""
        if self.sparse is None or upscale_ratio(d.shape[-2:], r.shape[-2:]) <= self.sparse_min_ratio:
            return torch.zeros_like(filled)
        return filled & (share < self.sparse_max_valid)

    def _clean_expert(self, d: torch.Tensor, r: torch.Tensor) -> tuple[str, torch.nn.Module | None]:
        """(label, module) of the clean expert for this call's ratio: the first band that holds it, else ``clean``."""
        ratio = upscale_ratio(d.shape[-2:], r.shape[-2:])
        return next(((n, m) for mr, n, m in self.clean_bands if ratio <= mr), (self.clean_name, self.clean))

    def _clean_mask(self, p, label: str) -> torch.Tensor:
        """(B,) bool: frames that go to the clean expert ``label``."""
        if self.clean is None:
            return torch.zeros(p.lr.shape[0], dtype=torch.bool, device=p.lr.device)
        valid = p.lr[:, 1].flatten(1).mean(1)
        max_sigma = self.clean_band_sigma.get(label, self.clean_max_sigma)
        return (image_noise(p.lr) <= max_sigma) & (valid >= self.clean_min_valid)

    def _masks(self, p, d: torch.Tensor, r: torch.Tensor, sparse: torch.Tensor | None = None):
        """(B,) bool each: frames that go to the clean expert of this call's ratio, to the holes expert (not
        clean, fewer valid LR pixels than holes_max_valid, the ratio at most holes_max_ratio) and to the sparse
        expert (``sparse``, from ``_sparse_mask``; it takes precedence)."""
        sparse = torch.zeros(d.shape[0], dtype=torch.bool, device=d.device) if sparse is None else sparse
        clean = self._clean_mask(p, self._clean_expert(d, r)[0]) & ~sparse
        if self.holes is None or upscale_ratio(d.shape[-2:], r.shape[-2:]) > self.holes_max_ratio:
            return clean, torch.zeros_like(clean), sparse
        return clean, ~clean & ~sparse & (p.lr[:, 1].flatten(1).mean(1) < self.holes_max_valid), sparse

    @torch.inference_mode()
    def experts(self, depth_lr: ArrayOrTensor, rgb: ArrayOrTensor) -> list[str]:
        """Which expert each frame goes to: "sensor", the clean expert's label ("clean" unless its JSON entry
        has a "name"), a clean band's label, the holes or the sparse expert's label (always "sensor" without the
        others). With a self-ensemble, a hedged frame (``hole_hedge_max_valid``) runs every second copy on the
        hole-free path too."""
        d, r, _ = self._to_tensors(depth_lr, rgb)
        share = _valid_share(d)
        d, filled = self._fill_sparse(d)
        label = self._clean_expert(d, r)[0]
        clean, holes, sparse = self._masks(self.model.prepare(d, r), d, r, self._sparse_mask(filled, share, d, r))
        return [self.sparse_name if s else label if c else self.holes_name if h else "sensor"
                for c, h, s in zip(clean.tolist(), holes.tolist(), sparse.tolist())]

    def _routed(self, p, d, r, fn, masks=None):
        """fn(model) -> a batch tensor, from each frame's expert (several run only when a batch mixes them).
        ``masks``: (clean, holes, sparse) from ``_masks`` when already decided (the self-ensemble routes once)."""
        expert = self._clean_expert(d, r)[1]
        clean, holes, sparse = masks if masks is not None else self._masks(p, d, r)
        groups = [(m, sel) for m, sel in ((expert, clean), (self.holes, holes), (self.sparse, sparse),
                                          (self.model, ~clean & ~holes & ~sparse)) if sel.any()]
        if len(groups) == 1:
            return fn(groups[0][0])
        out = None
        for m, sel in groups:
            y = fn(m)
            out = y if out is None else torch.where(sel.view(-1, *([1] * (y.ndim - 1))), y, out)
        return out

    # -- the call ------------------------------------------------------------------------------------------
    @torch.inference_mode()
    def _run(self, depth_lr, rgb, steps, fill_holes, depth_hr=None, guidance=None, seed=None, prior_only=False,
             ensemble=None):
        d, r, numpy_io = self._to_tensors(depth_lr, rgb)
        if upscale_ratio(d.shape[-2:], r.shape[-2:]) < LOW_RATIO:
            warnings.warn(f"depth {d.shape[-1]}x{d.shape[-2]} is within {LOW_RATIO}x of the colour resolution "
                          f"{r.shape[-1]}x{r.shape[-2]}: little to super-resolve (the model is trained for ratios "
                          "2-16); pass the sensor's native depth, not one upsampled or aligned to the colour image",
                          UserWarning, stacklevel=4)   # the caller of upscale() (inference_mode wraps _run)
        r = r.contiguous(memory_format=torch.channels_last)
        n, seed, steps = self._ensemble(ensemble), self._seed(seed), self._steps(steps)
        with self._autocast():
            p0 = self.model.prepare(d, r)   # the input as given: its support blanks the output (fill_holes=False)
            share = _valid_share(d)
            df, filled = self._fill_sparse(d)
            p, d = (p0 if df is d else self.model.prepare(df, r)), df
            z = self._guidance_in(guidance, d.shape[0]) if guidance is not None else None
            h = None
            if depth_hr is not None:
                h = torch.as_tensor(depth_hr, dtype=torch.float32, device=self.device)
                h = h.reshape(1, 1, *h.shape[-2:]) if h.ndim == 2 else h
                if h.ndim != 4 or h.shape[1] != 1 or h.shape[0] not in (1, d.shape[0]) or h.shape[-2:] != r.shape[-2:]:
                    raise ValueError(f"depth_hr must be (H, W) or (B, 1, H, W) on the colour grid "
                                     f"{r.shape[-1]}x{r.shape[-2]}, got {tuple(h.shape)}")
            masks = self._masks(p, d, r, self._sparse_mask(filled, share, d, r))   # each frame's expert, decided once
            if prior_only:   # GRN's prior, or GGN's from the HR ground truth (oracle)
                z = self._routed(p, d, r, lambda m: m.guidance_gt(p, h) if h is not None else
                                 m.guidance(p, steps, seed=seed), masks).float()
                return z[0].cpu().numpy() if numpy_io else z
            if h is not None:
                h = h.expand(d.shape[0], -1, -1, -1)
            # the hedge: every second copy of a frame with holes runs on it nearest-filled (hole-free routing)
            dh, hedged = self._fill_sparse(d, self.hole_hedge_max_valid) if n > 1 and h is None else (d, filled)
            mh = (self._masks(self.model.prepare(dh, r), dh, r, self._sparse_mask(filled | hedged, share, d, r))
                  if dh is not d else masks)
            out, b, k = None, d.shape[0], 0
            lo, hi = _input_range(d)   # the same for every copy (flips and fills keep the values)
            # self-ensemble: flipped / transposed copies (model/ensemble.py), those of one orientation stacked
            # along the batch (GRN gives every frame of a batch the same noise, so stacking changes no output)
            for run in batches(n, self.ensemble_batch):
                src = [(dh, mh) if (k + j) % 2 else (d, masks) for j in range(len(run))]
                k += len(run)

                def stack(t: torch.Tensor) -> torch.Tensor:
                    return run[0][0](t) if len(run) == 1 else torch.cat([fwd(t) for fwd, _ in run])
                dv = (run[0][0](src[0][0]) if len(run) == 1 else
                      torch.cat([fwd(x) for (fwd, _), (x, _) in zip(run, src)])).contiguous()
                rv = stack(r).contiguous(memory_format=torch.channels_last)
                pv = p if dv is d and rv is r else self.model.prepare(dv, rv)   # identity: already prepared
                zv, hv = (stack(t) if t is not None else None for t in (z, h))
                mv = tuple(torch.cat([m[i] for _, m in src]) for i in range(3))

                def forward(m):
                    zm = m.guidance_gt(pv, hv) if hv is not None else zv
                    return m.run(dv, rv, steps=steps, z=zm, seed=seed, prepared=pv).depth
                y = self._routed(pv, dv, rv, forward, mv).float()
                for i, (_, inv) in enumerate(run):
                    yi = inv(y[i * b:(i + 1) * b]).clamp(lo, hi)   # each copy, so the mean is of outputs
                    out = yi if out is None else out + yi
            out = out / n
        out = torch.where(p0.lr[:, 1:].amax(dim=(2, 3), keepdim=True) > 0, out, torch.full_like(out, float("nan")))
        if not fill_holes:
            out = torch.where(p0.support, out, torch.full_like(out, float("nan")))
        if numpy_io:
            return out[0, 0].cpu().numpy().astype(np.float32)
        return out

    def upscale(self, depth_lr: ArrayOrTensor, rgb: ArrayOrTensor, steps: int | None = None,
                fill_holes: bool = True, guidance: ArrayOrTensor | None = None,
                seed: int | None = None, ensemble: int | None = None) -> ArrayOrTensor:
        """Upscale LR depth to the colour grid.

        depth_lr: (h, w) float32 metres (0/NaN/negative = invalid) or a (B,1,h,w) tensor
        rgb:      (H, W, 3) uint8 RGB or a (B,3,H,W) tensor (uint8 or float in [0,1]); any ratio H/h
        steps:    reverse diffusion steps, 1..num_steps (None: default_steps); ignored with ``guidance``
        fill_holes: False -> NaN where the input had no valid depth nearby
        guidance: a prior from ``guidance()`` (this frame's, another frame's, edited...) used instead of running
                  GRN: (z_ch, h_z, w_z) array or (B|1, z_ch, h_z, w_z) tensor; resized if its grid differs
        seed:     seed of GRN's initial noise (None: the fixed default, so outputs are deterministic)
        ensemble: self-ensemble size, 1 | 2 | 4 | 8 (None: ``default_ensemble``): the mean over that many flipped /
                  transposed copies of the input (``model.ensemble``; cost: one network run each). A given
                  ``guidance`` is flipped with its copy, so it equals GRN's own only at ensemble 1
        Returns (H, W) float32 metres (NumPy in -> NumPy out) or (B,1,H,W), each frame within the range of its
        valid input depth. All-invalid input -> all NaN.
        """
        return self._run(depth_lr, rgb, steps, fill_holes, guidance=guidance, seed=seed, ensemble=ensemble)

    def guidance(self, depth_lr: ArrayOrTensor, rgb: ArrayOrTensor, steps: int | None = None,
                 seed: int | None = None) -> ArrayOrTensor:
        """The guidance prior GRN recovers for this input: (z_ch, ceil(H'/8), ceil(W'/8)) float32 for NumPy input,
        (B, z_ch, ...) tensor otherwise, where H', W' are the colour size rounded up to multiples of 4; values in
        (-1, 1), for the input as given (no self-ensemble). Pass it back with ``upscale(..., guidance=g)``."""
        return self._run(depth_lr, rgb, steps, True, seed=seed, prior_only=True)

    def upscale_oracle(self, depth_lr: ArrayOrTensor, rgb: ArrayOrTensor, depth_hr: ArrayOrTensor,
                       fill_holes: bool = True, ensemble: int | None = None) -> ArrayOrTensor:
        """Upper bound: the prior from GGN on the HR ground truth instead of GRN (evaluation only)."""
        return self._run(depth_lr, rgb, None, fill_holes, depth_hr=depth_hr, ensemble=ensemble)

    def oracle_guidance(self, depth_lr: ArrayOrTensor, rgb: ArrayOrTensor, depth_hr: ArrayOrTensor) -> ArrayOrTensor:
        """GGN's prior from the HR ground truth (same shape as ``guidance``; evaluation and ablations only)."""
        return self._run(depth_lr, rgb, None, True, depth_hr=depth_hr, prior_only=True)

    def warmup(self, rgb_hw: tuple[int, int] = (480, 640), depth_hw: tuple[int, int] = (120, 160),
               iterations: int = 2) -> None:
        rgb = np.zeros((*rgb_hw, 3), np.uint8)
        d = np.ones(depth_hw, np.float32)
        for _ in range(iterations):
            self.upscale(d, rgb, ensemble=1)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def __repr__(self) -> str:
        return (f"Upscaler({self.model_id}, device={self.device}, precision={self.precision}, "
                f"steps={self.default_steps}/{self.num_steps}, ensemble={self.default_ensemble})")


def _input_range(d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(lo, hi), each (B,1,1,1) float32: the range of each frame's valid LR depth ``d`` (B,1,h,w) (+inf / -inf for a
    frame with none). ``_run`` limits every output copy to it: no phantom surface nearer or farther than anything
    the sensor saw (e.g. inside a large hole), never 0 (= invalid, REP 118) where the input had depth; on the tune
    split that changes RMSE by under 0.15 % (docs/model.md, twenty-fourth session)."""
    valid = (d > 0) & torch.isfinite(d)
    inf = torch.tensor(float("inf"), device=d.device)
    lo = torch.where(valid, d, inf).amin(dim=(1, 2, 3), keepdim=True)
    hi = torch.where(valid, d, -inf).amax(dim=(1, 2, 3), keepdim=True)
    return lo.float(), hi.float()


def _valid_share(d: torch.Tensor) -> torch.Tensor:
    """(B,) share of each frame's LR pixels with valid depth (> 0, finite)."""
    return ((d > 0) & torch.isfinite(d)).flatten(1).float().mean(1)


__all__ = ["Upscaler", "WeightsError", "resolve_weights", "select_device", "DEFAULT_WEIGHTS"]
