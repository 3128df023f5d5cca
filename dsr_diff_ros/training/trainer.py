"""Two-stage DSR-Diff training (DiffIR recipe): stage 1 GGN + DSRN; stage 2 GRN (+ DSRN) from the frozen GGN.

Resumable: each call runs until ``iters`` or ``max_minutes`` and leaves ``<out>/state_stage<N>.*``; calling again
continues. Every chunk also exports the EMA weights as ``<out>/stage<N>.safetensors`` + ``.json``.
"""
from __future__ import annotations

import csv
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..data.degradations import SensorModel, degrade
from ..data.synthetic import SceneGenerator
from ..model import DSRDiff, ModelConfig
from ..model.checkpoint import load_weights, save_weights
from ..model.preprocess import prepare
from . import distributed as dist_utils
from .dataset import BatchSpec, SyntheticBatches
from .losses import guidance_l1, masked_l1
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
    log_every: int = 25
    ckpt_every: int = 250
    val_every: int = 500
    workers: int = 1
    threads: int = 0
    misregister: float = 0.0     # share of samples with colour shifted against depth (augmentation)
    model: ModelConfig = field(default_factory=ModelConfig)


class StageLoss(nn.Module):
    """forward(batch) -> (loss, logs). Wrapping the loss in a module lets DDP synchronise every used parameter."""

    def __init__(self, model: DSRDiff, stage: int):
        super().__init__()
        self.model, self.stage = model, stage
        self.grn_only = False

    def forward(self, rgb, depth_hr, depth_lr, steps: int, noise: torch.Tensor | None):
        m = self.model
        p = prepare(depth_lr, rgb, m.cfg.unshuffle)
        gt = depth_hr / p.scale
        if self.stage == 1:
            out = m.reconstruct(p, m.guidance_gt(p, depth_hr))
            ld = masked_l1(out, gt)
            return ld, {"l_depth": ld.item()}
        with torch.no_grad():
            z_gt = m.guidance_gt(p, depth_hr)
        grn = m.grn
        c = grn.condition(p.rgb, p.lr_grid)
        z_T = grn.diffusion.q_sample(z_gt, grn.T - 1, noise)
        z = grn.diffusion.sample(lambda zz, t: grn.denoiser(c, t, zz, grn.T), z_T, steps)
        lz = guidance_l1(z, z_gt)
        if self.grn_only:
            return lz, {"l_z": lz.item()}
        ld = masked_l1(m.reconstruct(p, z), gt)
        return ld + lz, {"l_depth": ld.item(), "l_z": lz.item()}


def validation_set(n: int = 16, size: int = 128, scale: float = 4.0) -> list[tuple]:
    gen = SceneGenerator(size, size)
    out = []
    for i in range(n):
        s = gen(10 ** 6 + i)
        out.append((s.rgb, s.depth, degrade(s.depth, scale, "sensor", SensorModel(max_range=1e3), rng=i)))
    return out


@torch.no_grad()
def validate(model: DSRDiff, val: list[tuple], stage: int, device: torch.device) -> dict:
    """RMSE (m) of the model and of bicubic (on the same hole-filled LR input) over the validation scenes."""
    model.eval()
    se_m = se_b = n = 0.0
    for rgb, hr, lr in val:
        r = torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div(255).to(device)
        h = torch.from_numpy(hr)[None, None].to(device)
        l_ = torch.from_numpy(lr)[None, None].to(device)
        pred = model(l_, r, depth_hr=h if stage == 1 else None)
        p = prepare(l_, r, model.cfg.unshuffle)
        bic = F.interpolate(p.lr[:, :1], size=hr.shape, mode="bicubic", align_corners=False) * p.scale
        se_m += ((pred - h) ** 2).sum().item()
        se_b += ((bic - h) ** 2).sum().item()
        n += hr.size
    return {"val_rmse": math.sqrt(se_m / n), "val_rmse_bicubic": math.sqrt(se_b / n)}


def _lr_at(cfg: TrainConfig, it: int) -> float:
    if it < cfg.warmup_iters:
        return cfg.lr * (it + 1) / cfg.warmup_iters
    t = (it - cfg.warmup_iters) / max(1, cfg.iters - cfg.warmup_iters)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


def train(cfg: TrainConfig) -> dict:
    """Run (or resume) one stage. Returns a summary dict (iterations done, last losses, validation)."""
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
        cfg.model = model.cfg
    else:
        model = DSRDiff(cfg.model)
    model.to(device)
    frozen = model.grn if cfg.stage == 1 else model.ggn
    for prm in frozen.parameters():
        prm.requires_grad_(False)
    params = [prm for prm in model.parameters() if prm.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas))
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema), use_buffers=True)
    state_path = out / f"state_stage{cfg.stage}"
    start, elapsed = 0, 0.0
    if state_path.with_suffix(".json").exists():
        info = load_state(state_path, model, ema, opt)
        start, elapsed = info["iteration"], info.get("elapsed_s", 0.0)
    loss_mod = StageLoss(model, cfg.stage)
    runner: nn.Module = loss_mod
    if world > 1:
        runner = nn.parallel.DistributedDataParallel(loss_mod, find_unused_parameters=cfg.stage == 2)
    spec = BatchSpec(batch=cfg.batch, patch=cfg.patch, p_misregister=cfg.misregister)
    data = SyntheticBatches(spec, seed=cfg.seed * 1000 + rank)
    loader = DataLoader(data, batch_size=None, sampler=range(start, cfg.iters), num_workers=cfg.workers,
                        prefetch_factor=2 if cfg.workers else None, persistent_workers=False)
    val = validation_set() if rank == 0 else []
    log_path = out / f"log_stage{cfg.stage}.csv"
    new_log = not log_path.exists()
    logf = open(log_path, "a", newline="") if rank == 0 else None
    writer = csv.writer(logf) if logf else None
    if writer and new_log:
        writer.writerow(["iteration", "stage", "loss", "l_depth", "l_z", "lr", "s_per_it", "val_rmse",
                         "val_rmse_bicubic", "elapsed_s"])
    t0, it, last = time.time(), start, {}
    gen = torch.Generator().manual_seed(cfg.seed * 7 + rank + start)

    def checkpoint() -> None:
        if rank != 0:
            return
        info = {"iteration": it, "stage": cfg.stage, "elapsed_s": elapsed + time.time() - t0,
                "train_config": {**asdict(cfg), "model": cfg.model.to_dict()}}
        save_state(state_path, model, ema, opt, info)
        meta = {"training": {"stage": cfg.stage, "iterations": it, "batch": cfg.batch * world, "patch": cfg.patch,
                             "data": "procedural scenes (dsr_diff_ros.data.synthetic) with random sensor / bicubic "
                                     "degradations, scale log-uniform in [2, 16] (40% of batches at x4)",
                             "hours": round(info["elapsed_s"] / 3600, 3), "device": str(device), "last": last},
                "normalisation": "per frame: divide by the max valid LR depth (>= 0.1 m); output scaled back",
                "scale_range": [2.0, 16.0], "default_steps": cfg.model.timesteps}
        save_weights(ema.module, out / f"stage{cfg.stage}", meta)

    bar = tqdm(total=cfg.iters, initial=start, disable=rank != 0, desc=f"stage {cfg.stage}", dynamic_ncols=True)
    try:
        for batch in loader:
            if cfg.max_minutes and time.time() - t0 > cfg.max_minutes * 60:
                break
            model.train()
            loss_mod.grn_only = cfg.stage == 2 and it < cfg.grn_warmup
            lr = _lr_at(cfg, it)
            for g in opt.param_groups:
                g["lr"] = lr
            steps = int(torch.randint(1, cfg.model.timesteps + 1, (1,), generator=gen))
            noise = torch.randn(batch["rgb"].shape[0], cfg.model.z_dim, generator=gen).to(device)
            ts = time.time()
            loss, logs = runner(batch["rgb"].to(device), batch["depth_hr"].to(device), batch["depth_lr"].to(device),
                                steps, noise)
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
                bar.write(f"it {it}: val RMSE {vals['val_rmse']:.4f} m (bicubic {vals['val_rmse_bicubic']:.4f} m)")
            if writer and (it % cfg.log_every == 0 or vals):
                writer.writerow([it, cfg.stage, f"{loss.item():.5f}", f"{logs.get('l_depth', float('nan')):.5f}",
                                 f"{logs.get('l_z', float('nan')):.5f}", f"{lr:.3e}", f"{time.time() - ts:.3f}",
                                 f"{vals.get('val_rmse', float('nan')):.5f}",
                                 f"{vals.get('val_rmse_bicubic', float('nan')):.5f}",
                                 f"{elapsed + time.time() - t0:.0f}"])
                logf.flush()
            if it % cfg.ckpt_every == 0:
                checkpoint()
    except KeyboardInterrupt:
        if rank == 0:
            bar.write("interrupted: saving a resumable checkpoint")
    finally:
        bar.close()
        checkpoint()
        if logf:
            logf.close()
        dist_utils.barrier()
        dist_utils.shutdown()
    return {"iteration": it, "stage": cfg.stage, "done": it >= cfg.iters, "last": last, "out": str(out)}
