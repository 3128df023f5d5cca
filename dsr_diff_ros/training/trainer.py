"""Two-stage DSR-Diff training (DiffIR recipe): stage 1 GGN + DSRN; stage 2 GRN (+ DSRN) from the frozen GGN.

Data: real RGB-D pairs (RGB-D-D, Middlebury; their ``train`` split) + procedural scenes, degraded on the fly
(``training.dataset``); validation on the real ``tune`` split (x4, bicubic protocol and a sensor model).

Resumable: each call runs until ``iters`` or ``max_minutes`` and leaves ``<out>/state_stage<N>.*``; calling again
continues. Every chunk also exports the EMA weights as ``<out>/stage<N>.safetensors`` + ``.json``.
"""
from __future__ import annotations

import csv
import math
import random
import signal
import threading
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..data.degradations import SensorModel, degrade
from ..data.real import read_middlebury, read_rgbdd
from ..data.shared import shared_path
from ..data.synthetic import SceneGenerator
from ..model import DSRDiff, ModelConfig
from ..model.blocks import TransformerBlock
from ..model.degradation import CHANNELS as DEG_CHANNELS
from ..model.checkpoint import load_weights, save_weights
from . import distributed as dist_utils
from .dataset import BatchSpec, TrainingBatches
from .losses import DEPTH_LOSSES, guidance_l1
from .state import load_state, save_state


@dataclass
class TrainConfig:
    out: str = "runs/default"
    stage: int = 1
    iters: int = 6000
    batch: int = 8
    patch: int = 128
    lr: float = 2e-4
    min_lr_ratio: float = 0.05
    warmup_iters: int = 200
    betas: tuple = (0.9, 0.99)
    ema: float = 0.999
    grad_clip: float = 1.0
    seed: int = 0
    grn_warmup: int = 0          # stage 2: iterations training GRN on the guidance loss only
    init: str | None = None      # stage 2: stage-1 weights (default <out>/stage1)
    max_minutes: float | None = None
    time_schedule: bool = False   # with max_minutes: the cosine follows this call's elapsed time (one fixed-budget
                                  # chunk, e.g. a GPU lease; a resumed call starts its own budget)
    dsrn_lr_scale: float = 1.0    # stage 2: decoder (DSRN + refinement) lr relative to GRN's (< 1: keeps stage 1)
    refine_ch: int | None = None  # stage 2: add the full-resolution refinement to the init weights
    grow: dict = field(default_factory=dict)  # stage 2: larger groups for the init weights (``grow``), e.g.
                                              # {"fuse_blocks": 6}; the grown model starts from the init's outputs
    p_oracle: float = 0.0         # stage 2: share of batches in which the decoder reads GGN's prior instead of GRN's
    z_weight: float = 1.0         # stage 2: weight of L1(z, z_GGN) beside L1(depth) (DiffIR: 1)
    depth_loss: str = "l1"        # "l1" (DiffIR) or "rmse" (per-sample RMSE: the metric; a fine-tuning probe)
    mix: dict = field(default_factory=dict)   # BatchSpec overrides (the training mix), e.g. {"p_x4": 0.2}
    log_every: int = 25
    ckpt_every: int = 250
    val_every: int = 500
    snapshot_every: int = 0       # > 0: also keep the EMA weights every N iterations as <out>/snaps/it<N>.*
    workers: int = 1
    threads: int = 0
    scene_cache: str | None = None   # folder keeping generated procedural scenes for later runs (None: memory only)
    data_root: str | None = None  # folder holding rgbdd_train/ and middlebury_train/; None: the shared data
                                  # folder if present; "none": procedural scenes only
    p_synthetic: float = 0.3      # share of procedural samples when real data is present
    init_dsrn: str | None = None  # stage 1: warm-start tensors (safetensors) loaded where names and shapes match
    model: ModelConfig = field(default_factory=ModelConfig)


class StageLoss(nn.Module):
    """forward(batch) -> (loss, logs). Wrapping the loss in a module lets DDP synchronise every used parameter.

    Stage 1: L1(depth) with GGN's prior. Stage 2: the GGN prior (frozen) is noised to t = T-1, GRN runs ``steps``
    reverse steps from it, loss = L1(depth) + z_weight * L1(z, z_GGN) (DiffIR: z_weight 1)."""

    def __init__(self, model: DSRDiff, stage: int):
        super().__init__()
        self.model, self.stage = model, stage
        self.grn_only = False
        self.p_oracle = 0.0
        self.z_weight = 1.0
        self.depth_loss = DEPTH_LOSSES["l1"]

    def forward(self, rgb, depth_hr, depth_lr, steps: int, generator: torch.Generator | None = None):
        m = self.model
        p = m.prepare(depth_lr, rgb)
        gt = depth_hr / p.scale
        if self.stage == 1:
            ld = self.depth_loss(m.run(depth_lr, rgb, depth_hr=depth_hr, prepared=p).norm, gt)
            return ld, {"l_depth": ld.item()}
        with torch.no_grad():
            z_gt = m.guidance_gt(p, depth_hr)
        noise = torch.randn(z_gt.shape, generator=generator).to(z_gt.device, z_gt.dtype)
        z_T = m.grn.diffusion.q_sample(z_gt, m.grn.T - 1, noise)
        oracle = not self.grn_only and self.p_oracle > 0 and float(torch.rand((), generator=generator)) < self.p_oracle
        if self.grn_only or oracle:
            lz = guidance_l1(m.guidance(p, steps, z_T=z_T), z_gt)
            if self.grn_only:
                return lz, {"l_z": lz.item()}
            # this batch the decoder reads GGN's prior (keeps it trusting the prior); GRN still learns z
            ld = self.depth_loss(m.run(depth_lr, rgb, z=z_gt, prepared=p).norm, gt)
            return ld + self.z_weight * lz, {"l_depth": ld.item(), "l_z": lz.item()}
        out = m.run(depth_lr, rgb, steps=steps, z_T=z_T, prepared=p)
        lz = guidance_l1(out.z, z_gt)
        ld = self.depth_loss(out.norm, gt)
        return ld + self.z_weight * lz, {"l_depth": ld.item(), "l_z": lz.item()}


VAL_SENSOR = SensorModel(noise="linear", noise_std=0.01, quant_mm=1.0, hole_rate=0.02, edge_holes=0.3, flying=0.2,
                         max_range=1e3)
# validation modes: (name, scale, degradation); the bicubic protocol at three scales, a ToF-like sensor and the
# heavy-noise protocol (a candidate tuned at x4 alone can lose at x8/x16 and under noise)
VAL_MODES = (("bicubic", 4.0, "bicubic"), ("x8", 8.0, "bicubic"), ("x16", 16.0, "bicubic"),
             ("sensor", 4.0, "sensor"), ("noisy", 4.0, "noisy"))
VAL_KEYS = ("val_ratio", "val_ratio_bicubic", "val_ratio_sensor", "val_ratio_x8", "val_ratio_x16", "val_ratio_noisy")


def tune_frames(data_root: Path, every: int = 4, start: int = 0) -> list[tuple]:
    """(name, rgb uint8, depth) of the real **tune** split: every ``every``-th RGB-D-D tune scene from ``start``
    (metres) and the Middlebury tune scenes (their values / 64). What validation and design decisions look at."""
    frames = [(p.name, p.rgb, p.depth) for p in read_rgbdd(data_root / "rgbdd_train", "tune")[start::every]]
    return frames + [(p.name, p.rgb, p.depth / 64.0) for p in read_middlebury(data_root / "middlebury_train", "tune")]


def validation_set(data_root: Path | None, size: int = 128) -> list[tuple]:
    """(name/mode, rgb, hr, lr) for every frame and ``VAL_MODES`` mode. Real ``tune`` frames (8 RGB-D-D,
    5 Middlebury) when ``data_root`` has them, else 16 procedural scenes."""
    if data_root is not None:
        frames = tune_frames(data_root)
    else:
        gen = SceneGenerator(size, size)
        frames = [(f"scene{i}", *(lambda s: (s.rgb, s.depth))(gen(10 ** 6 + i))) for i in range(16)]
    out = []
    for k, (name, rgb, hr) in enumerate(frames):
        for mode, scale, how in VAL_MODES:
            lr = degrade(hr, scale, how, VAL_SENSOR if how == "sensor" else None, rng=k)
            out.append((f"{name}/{mode}", rgb, hr, lr))
    return out


@torch.no_grad()
def validate(model: DSRDiff, val: list[tuple], stage: int, device: torch.device) -> dict:
    """Model RMSE / bicubic RMSE (same hole-filled LR input) per frame; geometric means per mode
    (``val_ratio_<mode>``; x4 bicubic protocol: ``val_ratio_bicubic``) and over all modes (``val_ratio``)."""
    model.eval()
    ratios: dict[str, list[float]] = {}
    for name, rgb, hr, lr in val:
        r = torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div(255).to(device)
        h = torch.from_numpy(hr)[None, None].to(device)
        out = model.run(torch.from_numpy(lr)[None, None].to(device), r, depth_hr=h if stage == 1 else None)
        p = out.prep
        bic = F.interpolate(p.lr[:, :1], size=hr.shape, mode="bicubic", align_corners=False) * p.scale
        v = h > 0
        rm = ((out.depth - h)[v] ** 2).mean().sqrt().item()
        rb = ((bic - h)[v] ** 2).mean().sqrt().item()
        ratios.setdefault(name.rsplit("/", 1)[1], []).append(rm / max(rb, 1e-9))
    gm = {k: _gmean(v) for k, v in ratios.items()}
    return {"val_ratio": _gmean(list(gm.values())), **{f"val_ratio_{k}": v for k, v in gm.items()}}


def _gmean(values: list[float]) -> float:
    return float(np.exp(np.mean(np.log(values))))


def upgrade_log(path: Path, header: list[str]) -> None:
    """A log written before the columns ``header`` adds gets them (empty) so that resumed rows line up."""
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] == header:
        return
    old = rows[0]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows[1:]:
            d = dict(zip(old, r))
            w.writerow([d.get(k, "") for k in header])


def resolve_data_root(data_root: str | None) -> Path | None:
    if data_root in ("none", ""):
        return None
    root = Path(data_root) if data_root else shared_path()
    return root if root is not None and (root / "rgbdd_train").is_dir() else None


def load_partial(model: nn.Module, tensors: str | dict) -> int:
    """Copy ``tensors`` (a state dict, or a safetensors path) into ``model`` where names and shapes match;
    returns the count."""
    if not isinstance(tensors, dict):
        from safetensors.torch import load_file

        tensors = load_file(tensors)
    own = model.state_dict()
    src = {k: v for k, v in tensors.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(src, strict=False)
    return len(src)


class TrainConfigError(ValueError):
    """A training request that cannot be carried out as asked (unknown mix key, a model that cannot grow so)."""


def mix_overrides(mix: dict) -> dict:
    """``mix`` checked against the training mix's shares (``BatchSpec`` fields other than batch, patch and
    p_synthetic, which have their own options)."""
    known = {f.name for f in fields(BatchSpec)} - {"batch", "patch", "p_synthetic"}
    bad = sorted(set(mix) - known)
    if bad:
        raise TrainConfigError(f"unknown training-mix keys {bad}; known: {sorted(known)}")
    mix = dict(mix)
    for k, v in mix.items():
        if k == "fatten_px":                         # one width or several (A:B:...), whole pixels
            px = v if isinstance(v, tuple) else (v,)
            if not all(x >= 0 and float(x).is_integer() for x in px):
                raise TrainConfigError(f"training mix fatten_px: takes whole pixels >= 0 (N or A:B:...), got {v}")
            mix[k] = tuple(int(x) for x in px)
            continue
        if (k == "scale_range") != isinstance(v, tuple) or (isinstance(v, tuple) and len(v) != 2):
            what = "takes LO:HI" if k == "scale_range" else "takes one number"
            raise TrainConfigError(f"training mix {k}: {what}")
    lo, hi = mix.get("scale_range", BatchSpec.scale_range)
    if not 1.0 < lo <= hi:
        raise TrainConfigError(f"training mix scale_range: need 1 < LO <= HI, got {lo}:{hi}")
    return mix


GROWABLE = ("dfe_blocks", "cfe_blocks", "fuse_blocks", "refine_ch", "refine_feat", "deg_ch")


def grow(model: DSRDiff, **changes: int) -> DSRDiff:
    """A larger model that computes exactly what ``model`` computes: more transformer blocks per group (appended,
    their attention and feed-forward outputs zeroed, so each starts as the identity), a new full-resolution
    refinement and/or DSRN features into the refinement, the measured degradation maps into the prior embedding
    (all zero-initialised where they enter). Training then fits the added capacity on top of trained weights."""
    bad = {k: v for k, v in changes.items()
           if k not in GROWABLE or v < getattr(model.cfg, k)
           or ((k.startswith("refine") or k == "deg_ch") and getattr(model.cfg, k))}
    if changes.get("refine_feat") and not changes.get("refine_ch", model.cfg.refine_ch):
        bad["refine_feat"] = changes["refine_feat"]
    if bad:
        raise TrainConfigError(f"cannot grow {bad}: only more blocks in {GROWABLE[:3]}, a refinement where there is "
                               f"none, feature input to a refinement that has none, or the degradation maps "
                               f"(deg_ch={DEG_CHANNELS}) where there are none")
    try:
        grown = DSRDiff(replace(model.cfg, **changes))
    except ValueError as e:
        raise TrainConfigError(f"cannot grow {changes}: {e}") from None
    old = model.state_dict()
    load_partial(grown, old)
    key = "dsrn.z_embed.0.weight"
    if grown.cfg.deg_ch and not model.cfg.deg_ch:     # the maps enter through zero weights: same output
        with torch.no_grad():
            w = grown.state_dict()[key]
            w.zero_()
            w[:, :old[key].shape[1]] = old[key]
    for name, mod in grown.named_modules():
        if isinstance(mod, TransformerBlock) and f"{name}.attn.out.weight" not in old:
            for layer in (mod.attn.out, mod.ffn.out):
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)
    return grown


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _lr_at(cfg: TrainConfig, it: int, minutes: float = 0.0) -> float:
    """Linear warm-up, then cosine to ``min_lr_ratio``; the cosine follows iterations, or with ``time_schedule``
    whichever of iterations and the ``max_minutes`` budget is further along."""
    if it < cfg.warmup_iters:
        return cfg.lr * (it + 1) / cfg.warmup_iters
    t = (it - cfg.warmup_iters) / max(1, cfg.iters - cfg.warmup_iters)
    if cfg.time_schedule and cfg.max_minutes:
        t = max(t, minutes / cfg.max_minutes)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


def train(cfg: TrainConfig) -> dict:
    """Run (or resume) one stage. Returns a summary dict (iterations done, last losses, validation)."""
    mix = mix_overrides(cfg.mix)   # fail before any work
    if cfg.depth_loss not in DEPTH_LOSSES:
        raise TrainConfigError(f"depth_loss must be one of {sorted(DEPTH_LOSSES)}, got {cfg.depth_loss!r}")
    rank, world = dist_utils.init()
    device = dist_utils.local_device()
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed + rank)
    random.seed(cfg.seed + rank)
    np.random.seed(cfg.seed + rank)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    if cfg.stage == 2:
        init = cfg.init or str(out / "stage1")
        model, _ = load_weights(init)
        changes = dict(cfg.grow)
        if cfg.refine_ch is not None:
            changes["refine_ch"] = cfg.refine_ch
        changes = {k: v for k, v in changes.items() if getattr(model.cfg, k, None) != v}
        if changes:   # when resuming, the state loaded below replaces the grown weights
            print(f"growing {init}: {changes}")
            model = grow(model, **changes)
        cfg.model = model.cfg
    else:
        model = DSRDiff(cfg.model)
        if cfg.init_dsrn:
            print(f"warm start: {load_partial(model, cfg.init_dsrn)} tensors from {cfg.init_dsrn}")
    model.to(device)
    frozen = model.grn if cfg.stage == 1 else model.ggn
    for prm in frozen.parameters():
        prm.requires_grad_(False)
    params = [prm for prm in model.parameters() if prm.requires_grad]
    decoder = [model.dsrn] + ([model.refine] if model.refine is not None else [])   # what dsrn_lr_scale scales
    decoder_ids = {id(prm) for mod in decoder for prm in mod.parameters()} if cfg.stage == 2 else set()
    groups = [{"params": [prm for prm in params if id(prm) not in decoder_ids], "lr_scale": 1.0}]
    if decoder_ids:
        groups.append({"params": [prm for prm in params if id(prm) in decoder_ids], "lr_scale": cfg.dsrn_lr_scale})
    opt = torch.optim.Adam(groups, lr=cfg.lr, betas=tuple(cfg.betas))
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema), use_buffers=True)
    state_path = out / f"state_stage{cfg.stage}"
    start, elapsed = 0, 0.0
    if state_path.with_suffix(".json").exists():
        info = load_state(state_path, model, ema, opt)
        start, elapsed = info["iteration"], info.get("elapsed_s", 0.0)
    loss_mod = StageLoss(model, cfg.stage)
    loss_mod.p_oracle, loss_mod.z_weight = cfg.p_oracle, cfg.z_weight
    loss_mod.depth_loss = DEPTH_LOSSES[cfg.depth_loss]
    runner: nn.Module = loss_mod
    if world > 1:
        runner = nn.parallel.DistributedDataParallel(loss_mod, find_unused_parameters=cfg.stage == 2)
    root = resolve_data_root(cfg.data_root)
    real = (read_rgbdd(root / "rgbdd_train") + read_middlebury(root / "middlebury_train")) if root else []
    spec = BatchSpec(batch=cfg.batch, patch=cfg.patch, p_synthetic=cfg.p_synthetic, **mix)
    data = TrainingBatches(spec, real, seed=cfg.seed * 1000 + rank, scene_cache=cfg.scene_cache)
    loader = DataLoader(data, batch_size=None, sampler=range(start, cfg.iters), num_workers=cfg.workers,
                        prefetch_factor=4 if cfg.workers else None, persistent_workers=False,
                        pin_memory=device.type == "cuda")
    val = validation_set(root) if rank == 0 else []
    log_path = out / f"log_stage{cfg.stage}.csv"
    header = ["iteration", "stage", "loss", "l_depth", "l_z", "lr", "s_per_it", "data_s", *VAL_KEYS[:3],
              "elapsed_s", *VAL_KEYS[3:]]
    if rank == 0:
        upgrade_log(log_path, header)
    new_log = not log_path.exists()
    logf = open(log_path, "a", newline="") if rank == 0 else None
    writer = csv.writer(logf) if logf else None
    if writer and new_log:
        writer.writerow(header)
    t0, it, last = time.time(), start, {}
    gen = torch.Generator().manual_seed(cfg.seed * 7 + rank + start)

    def weights_meta() -> dict:
        return {"training": {"stage": cfg.stage, "iterations": it, "batch": cfg.batch * world, "patch": cfg.patch,
                             "data": (f"real RGB-D-D ({len(data.rgbdd)}) + Middlebury ({len(data.mb)}) train split "
                                      f"(research use only) and {spec.p_synthetic:.0%} procedural scenes" if real
                                      else "procedural scenes") + "; degradations: dsr_diff_ros.training.dataset",
                             "hours": round((elapsed + time.time() - t0) / 3600, 3), "device": str(device),
                             "last": last},
                "normalisation": "per frame: divide by the max valid LR depth (>= 0.1 m; isolated far spikes "
                                 "excluded); output scaled back",
                "scale_range": list(spec.scale_range), "default_steps": cfg.model.timesteps}

    def checkpoint() -> None:
        if rank != 0:
            return
        info = {"iteration": it, "stage": cfg.stage, "elapsed_s": elapsed + time.time() - t0,
                "train_config": {**asdict(cfg), "model": cfg.model.to_dict()}}
        save_state(state_path, model, ema, opt, info)
        save_weights(ema.module, out / f"stage{cfg.stage}", weights_meta())

    bar = tqdm(total=cfg.iters, initial=start, disable=rank != 0, desc=f"stage {cfg.stage}", dynamic_ncols=True)
    # SIGTERM (kill, a job scheduler) and SIGINT stop the same way: a resumable checkpoint. A background job
    # started by a non-interactive shell ignores SIGINT, so SIGTERM is the signal that reaches it.
    old_term = signal.signal(signal.SIGTERM, _raise_interrupt) if _main_thread() else None
    try:
        t_data = time.time()
        for batch in loader:
            if cfg.max_minutes and time.time() - t0 > cfg.max_minutes * 60:
                break
            model.train()
            loss_mod.grn_only = cfg.stage == 2 and it < cfg.grn_warmup
            lr = _lr_at(cfg, it, (time.time() - t0) / 60)
            for g in opt.param_groups:
                g["lr"] = lr * g.get("lr_scale", 1.0)
            steps = int(torch.randint(1, cfg.model.timesteps + 1, (1,), generator=gen))
            ts = time.time()
            data_s = ts - t_data
            nb = device.type == "cuda"
            loss, logs = runner(batch["rgb"].to(device, non_blocking=nb), batch["depth_hr"].to(device, non_blocking=nb),
                                batch["depth_lr"].to(device, non_blocking=nb), steps, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
            ema.update_parameters(model)
            it += 1
            last = {"loss": loss.item(), **logs}
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}", lr=f"{lr:.1e}")
            vals = {}
            if rank == 0 and (it % cfg.val_every == 0 or it == cfg.iters):
                vals = validate(ema.module, val, cfg.stage, device)
                bar.write(f"it {it}: val RMSE / bicubic {vals['val_ratio']:.4f} (" + ", ".join(
                    f"{k[10:]} {v:.4f}" for k, v in vals.items() if k != "val_ratio") + ")")
            if writer and (it % cfg.log_every == 0 or vals):
                nan = float("nan")
                f = [f"{vals.get(k, nan):.5f}" for k in VAL_KEYS]
                writer.writerow([it, cfg.stage, f"{loss.item():.5f}", f"{logs.get('l_depth', nan):.5f}",
                                 f"{logs.get('l_z', nan):.5f}", f"{lr:.3e}", f"{time.time() - ts:.3f}",
                                 f"{data_s:.3f}", *f[:3], f"{elapsed + time.time() - t0:.0f}", *f[3:]])
                logf.flush()
            if it % cfg.ckpt_every == 0:
                checkpoint()
            if rank == 0 and cfg.snapshot_every and it % cfg.snapshot_every == 0:
                save_weights(ema.module, out / "snaps" / f"it{it}", weights_meta())
            t_data = time.time()
    except KeyboardInterrupt:
        if rank == 0:
            bar.write("interrupted: saving a resumable checkpoint")
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
        bar.close()
        checkpoint()
        if logf:
            logf.close()
        dist_utils.barrier()
        dist_utils.shutdown()
    return {"iteration": it, "stage": cfg.stage, "done": it >= cfg.iters, "last": last, "out": str(out)}
