"""Training batches: real RGB-D crops (RGB-D-D, Middlebury) + a bank of procedural scenes, degraded on the fly.

The degradation mix (per sample; ranges in ``random_sensor`` and ``data.colour.random_colour``):
  40 % clean bicubic (the field's protocols), 10 % bicubic + Gaussian noise (Park et al.'s noisy benchmark), half
  of it of a constant sigma (0.5-6 % of the median depth), half growing with z^2 as disparity noise does
  (``noisy_downsample``: 1-5 % of depth at the median depth, twice that at twice it), 50 % a random low-cost
  sensor (ToF or structured light, clean to heavy noise, holes, shadows, flying pixels, quantisation). Colour:
  70 % of sensor samples and 25 % of bicubic samples go through a random camera/rig (exposure, white balance,
  noise, motion blur, JPEG, misregistration up to 4 px), so the model sees colour it must not trust; with
  ``p_texture`` a share of samples also gets texture pasted onto its colour with no depth behind it.
Optional (0 by default): Kinect-class holes cut into the HR depth before the protocol (``p_hr_holes``, the target
staying dense) and foreground fattening of structured-light samples (``p_fatten``).
Scale per batch: 35 % x4, 20 % a real sensor's grid ratio (SENSOR_RATIOS), else log-uniform in [2, 16].
Everything is deterministic in (seed, batch index).
"""
from __future__ import annotations

import hashlib
import inspect
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..data import synthetic
from ..data.colour import degrade_colour, paste_texture, random_colour
from ..data.degradations import (KERNELS, SensorModel, bicubic_downsample, degrade, fatten_foreground,
                                 kernel_downsample, kinect_holes, noisy_downsample)
from ..data.real import RealPair, middlebury_to_metres
from ..data.synthetic import SceneGenerator
from ..evaluation.baselines import fill_nearest

# RGB width / depth width of real rigs: 512x384 over 192x144 (phone ToF, RGB-D-D), 640x480 over 160x120,
# 224x172 (pmd), 240x180, 320x240; 1280x720 over 240x180 and 320x240.
SENSOR_RATIOS = (512 / 192, 640 / 160, 640 / 224, 640 / 240, 640 / 320, 1280 / 240, 1280 / 320, 512 / 160)


def random_sensor(rng: np.random.Generator) -> SensorModel:
    """A random low-cost depth sensor. Structured light (50 %): sigma = k z^2 with k log-uniform in
    [2e-4, 1.2e-2] /m (at 2 m: 0.08-5 cm), disparity quantisation 0-0.004 /m, projector shadows 1-3 px.
    ToF (50 %): sigma = k z with k log-uniform in [1e-3, 5e-2] (0.1-5 % of depth), more flying pixels.
    Both: random hole blobs 0-8 %, edge holes 0-60 %, dark/specular holes 0-60 %, area or nearest sampling."""
    sl = rng.random() < 0.5
    return SensorModel(
        noise="quadratic" if sl else "linear",
        noise_std=float(np.exp(rng.uniform(np.log(2e-4), np.log(1.2e-2))) if sl
                        else np.exp(rng.uniform(np.log(1e-3), np.log(5e-2)))),
        quant_mm=float(rng.choice([0.0, 1.0, 2.0])),
        disparity_step=float(rng.uniform(0, 0.004)) if sl and rng.random() < 0.5 else 0.0,
        hole_rate=float(rng.uniform(0, 0.08)) if rng.random() < 0.7 else 0.0,
        edge_holes=float(rng.uniform(0, 0.6)),
        shadow=float(rng.uniform(0.3, 1.0)) if sl and rng.random() < 0.5 else 0.0,
        shadow_px=int(rng.integers(1, 4)),
        shadow_side=int(rng.choice([-1, 1])),
        dark_holes=float(rng.uniform(0, 0.6)) if rng.random() < 0.4 else 0.0,
        flying=float(rng.uniform(0, 0.3 if sl else 0.7)),
        downsample=str(rng.choice(["area", "nearest"])),
        max_range=1e3,
    )


@dataclass
class BatchSpec:
    batch: int = 8
    patch: int = 128
    p_x4: float = 0.35
    p_sensor_ratio: float = 0.2
    scale_range: tuple = (2.0, 16.0)   # (lo, hi) of the log-uniform ratios; sensor ratios outside it are skipped
    p_bicubic: float = 0.4
    p_noisy_bicubic: float = 0.1
    p_noise_z2: float = 0.5       # share of the noisy bicubic samples whose sigma grows with z^2 (else constant)
    p_colour_sensor: float = 0.7
    p_fill: float = 0.0           # share of the sensor samples with their holes filled (nearest valid LR pixel), as
    #                               datasets that ship hole-filled sensor depth (RGB-D-D's phone ToF)
    p_colour_bicubic: float = 0.25
    p_texture: float = 0.0        # share of samples whose colour gets a pasted texture with no depth behind it
    #                               (``data.colour.paste_texture``: another crop's colour or a procedural pattern)
    max_shift: float = 4.0
    p_synthetic: float = 0.3      # share of samples from the procedural bank (the rest: real pairs)
    p_middlebury: float = 0.2     # share of the real samples from Middlebury (the rest: RGB-D-D)
    bank_size: int = 384          # procedural scenes generated once, reused with flips
    p_fatten: float = 0.0         # share of the structured-light sensor samples whose HR depth, target and input
    #                               alike, has its foreground fattened (``fatten_foreground``), as window-matching
    #                               sensors' depth, the ground truth of sensor benchmarks, has it (a probe: 0)
    p_hr_holes: float = 0.0       # share of samples whose HR depth loses Kinect-class regions (``kinect_holes``:
    #                               shadows, dark surfaces, blobs; 15-30 %) before any degradation, the target
    #                               staying dense: the bicubic protocol on ground truth with holes then leaves
    #                               half the LR empty (its support dilates every hole), which the model must fill
    p_hr_holes_sparse: float = 0.0  # share of those samples whose target keeps the holes (the loss then sees only
    #                               what the sensor measured, as benchmarks whose ground truth has holes score: the
    #                               rims of the grown LR holes rather than the holes' interiors)
    fill_below: float = 0.0       # an LR input with fewer valid pixels than this share is nearest-filled, as
    #                               ``Upscaler(hole_fill_max_valid=)`` fills it at run time (the hole-free experts'
    #                               input then; 0: never)
    fatten_px: tuple = (1, 1, 2)  # the fattening's width (HR px), drawn uniformly from these (or one number)
    p_kernel: float = 0.0         # share of the bicubic-protocol samples (clean or constant noise) downsampled with
    #                               another kernel (``data.degradations.KERNELS``, uniform: aliased OpenCV cubic /
    #                               linear, nearest at two phases, area), as evaluation code other than the papers'
    #                               does it
    p_dihedral: float = 0.0       # share of samples also turned upside down and/or transposed (the other grid
    #                               symmetries, which the self-ensemble feeds the network at run time)


class SceneBank:
    """``n`` procedural scenes of ``size`` px, deterministic in ``seed``; scene ``k`` is generated when first drawn
    (35 ms at 128 px, ~1 s at 384 px, so an eager bank held a 384 px run back ~10 min before its first step).

    cache: a folder where generated scenes are kept (``.npz``, no pickles) and read back by later runs of the same
    (size, seed, generator source); None keeps them in memory only."""

    def __init__(self, n: int, size: int, seed: int, cache: Path | str | None = None):
        self.n, self.size, self.seed = n, size, seed
        self.cache = Path(cache) if cache is not None else None
        self._gen, self._scenes = None, {}
        # a change to the generator's code gives new file names, so a cache never serves stale scenes
        self._tag = hashlib.sha1(inspect.getsource(synthetic).encode()).hexdigest()[:10] if cache else ""

    def _file(self, j: int) -> Path:
        return self.cache / f"scene_{self._tag}_{self.size}_{self.seed * 100003 + j}.npz"

    def _make(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        f = self._file(j) if self.cache is not None else None
        if f is not None and f.exists():
            try:
                with np.load(f, allow_pickle=False) as z:
                    return z["rgb"], z["depth"]
            except (OSError, ValueError, KeyError):
                pass   # a damaged file: generate the scene again and overwrite it
        if self._gen is None:
            self._gen = SceneGenerator(self.size, self.size)
        s = self._gen(self.seed * 100003 + j)
        if f is not None:
            f.parent.mkdir(parents=True, exist_ok=True)
            tmp = f.with_name(f"{f.stem}.{os.getpid()}.tmp.npz")   # runs sharing a cache never read half a file
            np.savez(tmp, rgb=s.rgb, depth=s.depth)
            os.replace(tmp, f)
        return s.rgb, s.depth

    def get(self, k: int):
        j = k % self.n
        if j not in self._scenes:
            self._scenes[j] = self._make(j)
        return self._scenes[j]


MIN_SCENE_SHARE = 0.9   # real scenes need a side of at least this share of the crop


class TrainingBatches(Dataset):
    """``ds[i]`` -> dict(rgb (B,3,P,P) [0,1], depth_hr (B,1,P,P), depth_lr (B,1,h,w) 0 = invalid, scale float).

    real: RGB-D-D pairs (metres) and Middlebury pairs (disparity-like values, turned into metres per sample).
    With no real pairs every sample is procedural."""

    def __init__(self, spec: BatchSpec = BatchSpec(), real: list[RealPair] = (), seed: int = 0,
                 length: int = 10 ** 9, scene_cache: Path | str | None = None):
        self.spec, self.seed, self.length = spec, seed, length
        # a scene a little smaller than the crop (Middlebury's 370-381 rows at 384 px) is mirrored at its border
        # to the crop's size (``_crop``); a much smaller one would be mostly mirror and is left out
        fits = lambda p: min(p.depth.shape) >= MIN_SCENE_SHARE * spec.patch  # noqa: E731
        self.rgbdd = [p for p in real if p.kind == "rgbdd" and fits(p)]
        self.mb = [p for p in real if p.kind == "middlebury" and fits(p)]
        self.bank = SceneBank(spec.bank_size, spec.patch, seed, scene_cache)
        lo, hi = spec.scale_range
        self.sensor_ratios = [q for q in SENSOR_RATIOS if lo <= q <= hi]   # the rig ratios inside the band

    def __len__(self) -> int:
        return self.length

    def _scale(self, rng: np.random.Generator) -> float:
        s = self.spec
        r = rng.random()
        if r < s.p_x4:
            return 4.0
        if r < s.p_x4 + s.p_sensor_ratio and self.sensor_ratios:
            return float(rng.choice(self.sensor_ratios))
        lo, hi = s.scale_range
        return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))

    def _crop(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(P,P,3) uint8 RGB and (P,P) float32 metres (0 = no ground truth)."""
        s, P = self.spec, self.spec.patch
        real = self.rgbdd or self.mb
        if not real or rng.random() < s.p_synthetic:
            rgb, d = self.bank.get(int(rng.integers(1 << 30)))
        else:
            use_mb = bool(self.mb) and (not self.rgbdd or rng.random() < s.p_middlebury)
            pair = self.mb[rng.integers(len(self.mb))] if use_mb else self.rgbdd[rng.integers(len(self.rgbdd))]
            rgb, d = pair.rgb, pair.depth
            H, W = d.shape
            if H < P or W < P:   # mirror the border (colour and depth alike: alignment stays exact)
                ph, pw = max(0, P - H), max(0, P - W)
                t, l = int(rng.integers(0, ph + 1)), int(rng.integers(0, pw + 1))
                rgb = cv2.copyMakeBorder(rgb, t, ph - t, l, pw - l, cv2.BORDER_REFLECT_101)
                d = cv2.copyMakeBorder(d, t, ph - t, l, pw - l, cv2.BORDER_REFLECT_101)
                H, W = d.shape
            zoom = rng.uniform(max(P / H, P / W, 0.5), 1.0) if rng.random() < 0.3 else 1.0
            ch, cw = int(np.ceil(P / zoom)), int(np.ceil(P / zoom))
            y, x = int(rng.integers(0, H - ch + 1)), int(rng.integers(0, W - cw + 1))
            rgb, d = rgb[y:y + ch, x:x + cw], d[y:y + ch, x:x + cw]
            if (ch, cw) != (P, P):
                rgb = cv2.resize(rgb, (P, P), interpolation=cv2.INTER_AREA)
                d = cv2.resize(d, (P, P), interpolation=cv2.INTER_NEAREST)
            if use_mb:
                d = middlebury_to_metres(d, rng)
        if rng.random() < 0.5:
            rgb, d = rgb[:, ::-1], d[:, ::-1]
        if s.p_dihedral > 0 and rng.random() < s.p_dihedral:   # (a draw only when asked: old recipes replay)
            k = int(rng.integers(1, 4))                         # 1: upside down, 2: transposed, 3: both
            if k & 1:
                rgb, d = rgb[::-1], d[::-1]
            if k & 2:
                rgb, d = rgb.transpose(1, 0, 2), d.T
        return np.ascontiguousarray(rgb), np.ascontiguousarray(d, dtype=np.float32)

    def _degrade(self, rgb: np.ndarray, d: np.ndarray, scale: float, rng: np.random.Generator,
                 hr_holes: bool = True):
        """-> (colour input, target depth, LR depth input); the target is ``d`` unless the sensor fattens it."""
        s, rgb0, d0 = self.spec, rgb, d
        holes = None
        if hr_holes and s.p_hr_holes and rng.random() < s.p_hr_holes:   # (no draw when 0: same stream)
            a = d.size / (640 * 480)                                     # blobs as many per area as on a frame
            holes = kinect_holes(d, rgb, rng, n_blobs=(int(3 * a), max(2, round(11 * a))))
            if s.p_hr_holes_sparse and rng.random() < s.p_hr_holes_sparse:   # (no draw when 0: same stream)
                d = np.where(holes, 0, d).astype(np.float32)                  # a target with the holes

        def src(target: np.ndarray) -> np.ndarray:   # what the sensor / protocol sees
            return target if holes is None else np.where(holes, 0, target).astype(np.float32)

        r = rng.random()
        if r < s.p_bicubic + s.p_noisy_bicubic:
            noisy = r >= s.p_bicubic
            if noisy and rng.random() < s.p_noise_z2:    # sigma growing with z^2 (bicubic inside)
                lr = noisy_downsample(src(d), scale, rng, rel_sigma=rng.uniform(0.01, 0.05))
            else:
                if s.p_kernel and rng.random() < s.p_kernel:   # (no draw when 0: same stream)
                    lr = kernel_downsample(src(d), scale, str(rng.choice(KERNELS)))
                else:
                    lr = bicubic_downsample(src(d), scale)
                if noisy:                                  # constant sigma
                    v = lr > 0
                    sigma = rng.uniform(0.005, 0.06) * float(np.median(lr[v])) if v.any() else 0.0
                    lr = np.where(v, np.maximum(lr + sigma * rng.standard_normal(lr.shape).astype(np.float32),
                                                1e-3), 0)
            p_col = s.p_colour_bicubic
        else:
            sensor = random_sensor(rng)
            if s.p_fatten and sensor.noise == "quadratic" and rng.random() < s.p_fatten:   # (no draw when 0)
                d = fatten_foreground(d, int(rng.choice(np.atleast_1d(s.fatten_px))))
            lr = degrade(src(d), scale, "sensor", sensor, rng, rgb=rgb)
            if s.p_fill and rng.random() < s.p_fill and (lr > 0).any():   # (no draw when 0: same stream)
                lr = fill_nearest(lr)
            p_col = s.p_colour_sensor
        if holes is not None and (lr > 0).mean() < 0.25:   # the holes left too little input: this sample has none
            return self._degrade(rgb0, d0, scale, rng, hr_holes=False)
        if 0 < (lr > 0).mean() < s.fill_below:
            lr = fill_nearest(lr)
        if rng.random() < p_col:
            rgb = degrade_colour(rgb, random_colour(rng, s.max_shift), rng)
        return rgb, d, lr.astype(np.float32)

    def __getitem__(self, i: int) -> dict:
        rng = np.random.default_rng([self.seed, i])
        scale = self._scale(rng)
        rgbs, hrs, lrs = [], [], []
        for _ in range(self.spec.batch):
            rgb, d = self._crop(rng)
            rgb_in, d, lr = self._degrade(rgb, d, scale, rng)
            if self.spec.p_texture and rng.random() < self.spec.p_texture:   # (no draw when 0: same stream)
                rgb_in = paste_texture(rgb_in, self._crop(rng)[0], rng)
            rgbs.append(rgb_in)
            hrs.append(d)
            lrs.append(lr)
        return {
            "rgb": torch.from_numpy(np.stack(rgbs)).permute(0, 3, 1, 2).float() / 255.0,
            "depth_hr": torch.from_numpy(np.stack(hrs))[:, None],
            "depth_lr": torch.from_numpy(np.stack(lrs))[:, None],
            "scale": scale,
        }
