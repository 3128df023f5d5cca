"""``adapt(recording, out)``: fine-tune DSR-Diff on a user's own recording without ground truth.

1. read the recording (``adapt.recording``), estimate the sensor profile (``adapt.profile``);
2. hold out every k-th frame; fix held-out batches once (same seed: comparable losses);
3. optimise the chosen parameters on the self-supervised losses (``adapt.losses``) until the time budget,
   evaluating the held-out loss every ``eval_every`` iterations and keeping the best weights;
4. keep them only if the held-out loss improved by ``min_gain`` over the base weights, else write the base
   weights unchanged (and say so); write ``<out>.safetensors`` + ``<out>.json`` with ``save_weights``.
Ctrl-C stops at the next step and still writes the best weights so far; the state is saved
(``adapt.state``) so that calling again with the same ``out`` resumes.
"""
from __future__ import annotations

import copy
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from tqdm import tqdm

from ..inference import resolve_weights, select_device
from ..model.checkpoint import load_weights, save_weights, sha256_file
from ..replay.driver import ReplayOptions
from . import losses as L
from .config import AdaptConfig
from .profile import SensorProfile, estimate_profile
from .recording import Recording, RecordingError, read_recording
from .samples import cross_scale_batch, prepare_frame, real_batch
from .state import load_state, restore_optimizer, save_state

LIGHT_KEYS = ("norm", "mod", "ffm.", "head.", "z_inject")


@dataclass
class AdaptResult:
    """What ``adapt`` did: the written weights, whether they are adapted, the profile, losses and timings."""

    weights: str
    adapted: bool
    reason: str
    profile: dict
    holdout: dict
    iterations: int
    time_s: dict
    frames: dict
    interrupted: bool = False
    curves: dict = field(default_factory=dict)


def trainable_names(model, scope: str) -> list[str]:
    """Names (``model.named_parameters``) adapted for ``scope`` ("light", "dsrn" or "all")."""
    if scope not in ("light", "dsrn", "all"):
        raise ValueError(f"scope must be light, dsrn or all, got {scope!r}")
    names = []
    for n, _ in model.named_parameters():
        if n.startswith("dsrn.") and (scope != "light" or any(k in n for k in LIGHT_KEYS)):
            names.append(n)
        elif scope == "all" and n.startswith("grn."):
            names.append(n)
    return names


def split_frames(n: int, holdout: float) -> tuple[list[int], list[int]]:
    """(train, held-out) indices: every k-th frame (k = round(1/holdout)) is held out; at least one of each."""
    if n < 2:
        raise RecordingError(f"adaptation needs at least 2 frames (one to hold out), the recording gave {n}")
    k = max(2, int(round(1 / max(holdout, 1e-3))))
    held = [i for i in range(n) if i % k == k // 2] or [n // 2]
    return [i for i in range(n) if i not in held], held


class _Objective:
    """The weighted self-supervised loss of one step (``train``) or of the fixed held-out batches (``holdout``)."""

    def __init__(self, model, base, cfg: AdaptConfig, device: torch.device):
        self.model, self.base, self.cfg, self.dev = model, base, cfg, device
        self.steps = cfg.steps

    def _run(self, model, b):
        return model.run(b["depth_lr"].to(self.dev), b["rgb"].to(self.dev), steps=self.steps)

    def terms(self, xb: dict, rb: Optional[dict], with_reg: bool) -> dict:
        c = self.cfg
        out = self._run(self.model, xb)
        t = {"cross": L.cross_scale(out.norm, out.prep.scale, xb["target"].to(self.dev))}
        if rb is not None and (c.w_consistency or c.w_edge or (with_reg and c.w_reg)):
            o = self._run(self.model, rb)
            if c.w_consistency:
                t["consistency"] = L.consistency(o.norm, o.prep.scale, rb["depth_lr"].to(self.dev))
            if c.w_edge:
                t["edge"] = L.edge(o.norm, rb["rgb_aligned"].to(self.dev))
            if with_reg and c.w_reg:
                with torch.no_grad():
                    ref = self._run(self.base, rb).norm
                t["reg"] = L.regulariser(o.norm, ref)
        return t

    def total(self, t: dict) -> torch.Tensor:
        c = self.cfg
        w = {"cross": c.w_cross, "consistency": c.w_consistency, "edge": c.w_edge, "reg": c.w_reg}
        return sum(w[k] * v for k, v in t.items())

    @torch.no_grad()
    def holdout(self, batches: list) -> dict:
        """Mean held-out terms and the gated ``loss``: cross-scale (+ weighted edge term); no regulariser."""
        self.model.eval()
        acc: dict = {}
        for xb, rb in batches:
            for k, v in self.terms(xb, rb, with_reg=False).items():
                acc.setdefault(k, []).append(float(v))
        out = {k: float(np.mean(v)) for k, v in acc.items()}
        # the gate: how well the held-out frames' real measurements are predicted from their degraded copies
        # (consistency is reported, not gated: a noisy sensor's LR depth rewards copying the noise)
        out["loss"] = out["cross"] + self.cfg.w_edge * out.get("edge", 0.0)
        return out


def _load_base(cfg: AdaptConfig, device: torch.device):
    st = resolve_weights(cfg.base)
    model, meta = load_weights(st)
    sha = sha256_file(st)
    return model.to(device), meta, {"path": str(st), "id": f"{st.stem}@{sha[:10]}", "safetensors_sha256": sha}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def adapt(recording: Union[str, Path, Recording], out: Union[str, Path], config: Optional[AdaptConfig] = None,
          options: Optional[ReplayOptions] = None, progress: bool = True, resume: bool = True,
          log=print) -> AdaptResult:
    """Adapt the base weights to ``recording`` (a path: rosbag2 / ROS 1 bag / RGB-D folder, read with the replay's
    topic options ``options``; or a ``Recording``) and write ``out``.safetensors/.json. See the module doc."""
    cfg = config or AdaptConfig()
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    t_start = time.time()
    device = select_device(cfg.device)
    rec = recording if isinstance(recording, Recording) else read_recording(recording, options, cfg.max_frames)
    t_read = time.time() - t_start
    train_idx, held_idx = split_frames(len(rec), cfg.holdout)
    t0 = time.time()
    profile = estimate_profile([rec.rgb[i] for i in train_idx], [rec.depth[i] for i in train_idx])
    if cfg.offset_px is not None:
        profile.offset_source = f"given (estimated {profile.offset_px[0]:+.2f}, {profile.offset_px[1]:+.2f})"
        profile.offset_px = (float(cfg.offset_px[0]), float(cfg.offset_px[1]))
    frames = [prepare_frame(r, d, profile, keep_aligned=bool(cfg.real_batch and cfg.w_edge))
              for r, d in zip(rec.rgb, rec.depth)]
    t_profile = time.time() - t0
    log(f"dsr-diff-adapt: {len(rec)} frames ({len(train_idx)} to adapt on, {len(held_idx)} held out); profile: "
        f"depth {profile.lr_size[0]}x{profile.lr_size[1]} -> colour {profile.rgb_size[0]}x{profile.rgb_size[1]} "
        f"(x{profile.ratio:.2f}), noise {profile.noise_law} {profile.noise_coef:.4g}, holes "
        f"{profile.hole_rate:.1%}, colour offset ({profile.offset_px[0]:+.1f}, {profile.offset_px[1]:+.1f}) px")

    model, base_meta, base_info = _load_base(cfg, device)
    base = copy.deepcopy(model).eval()
    for p in list(model.parameters()) + list(base.parameters()):
        p.requires_grad_(False)
    names = trainable_names(model, cfg.scope)
    params = dict(model.named_parameters())
    for n in names:
        params[n].requires_grad_(True)
    opt = torch.optim.Adam([params[n] for n in names], lr=cfg.lr)
    anchors = [params[n].detach().clone() for n in names]
    obj = _Objective(model, base, cfg, device)

    train_f, held_f = [frames[i] for i in train_idx], [frames[i] for i in held_idx]
    hrng = np.random.default_rng([cfg.seed, 999])
    n_hold = 4
    held_batches = [(cross_scale_batch(held_f, profile, hrng, cfg.batch, cfg.crop),
                     real_batch(held_f, hrng, max(1, cfg.real_batch), cfg.real_crop) if cfg.real_batch else None)
                    for _ in range(n_hold)]
    base_hold = obj.holdout(held_batches)

    it, spent, curves = 0, 0.0, {"iteration": [], "train_loss": [], "holdout_iteration": [0],
                                 "holdout_loss": [base_hold["loss"]], "elapsed_s": [0.0]}
    best = {"loss": base_hold["loss"], "iteration": 0, "terms": base_hold}
    best_tensors = {n: params[n].detach().clone() for n in names}
    state = load_state(out) if resume else None
    if state is not None:
        tensors, info = state
        if info.get("base_sha256") != base_info["safetensors_sha256"] or info.get("names") != names:
            log("dsr-diff-adapt: the saved state is for other base weights or another scope: starting afresh")
        else:
            for n in names:
                params[n].data.copy_(tensors[f"cur.{n}"])
                best_tensors[n] = tensors[f"best.{n}"].clone()
            restore_optimizer(opt, names, tensors, info)
            it, spent, curves, best = info["iteration"], info["elapsed_s"], info["curves"], info["best"]
            log(f"dsr-diff-adapt: resuming at iteration {it} ({spent:.0f} s of {cfg.budget_s:.0f} s spent)")

    def snapshot():
        save_state(out, names, {n: params[n] for n in names}, best_tensors, opt,
                   {"iteration": it, "elapsed_s": spent, "curves": curves, "best": best, "names": names,
                    "base_sha256": base_info["safetensors_sha256"], "config": cfg.to_dict()})

    def evaluate():
        """Held-out loss at iteration ``it`` into the curves; a new best keeps a copy of the weights."""
        nonlocal best, best_tensors
        h = obj.holdout(held_batches)
        curves["holdout_iteration"].append(it)
        curves["holdout_loss"].append(h["loss"])
        curves["elapsed_s"].append(round(time.time() - t_loop, 1))
        if h["loss"] < best["loss"]:
            best = {"loss": h["loss"], "iteration": it, "terms": h}
            best_tensors = {n: params[n].detach().clone() for n in names}

    interrupted = False
    too_few = len(held_idx) < cfg.min_holdout_frames
    if too_few:
        log(f"dsr-diff-adapt: only {len(held_idx)} held-out frame(s) (< {cfg.min_holdout_frames}): the adaptation could "
            "not be verified, so it is not run; record more frames (or lower --min-holdout-frames at your own risk)")
    bar = tqdm(total=int(cfg.budget_s), initial=int(min(spent, cfg.budget_s)), unit="s", desc="adapt",
               disable=not progress, dynamic_ncols=True, leave=False)
    t_loop, run_loss = time.time() - spent, []
    try:
        while not too_few and spent < cfg.budget_s and (cfg.max_iters is None or it < cfg.max_iters):
            rng = np.random.default_rng([cfg.seed, it])
            xb = cross_scale_batch(train_f, profile, rng, cfg.batch, cfg.crop)
            rb = real_batch(train_f, rng, cfg.real_batch, cfg.real_crop) if cfg.real_batch else None
            model.train()
            terms = obj.terms(xb, rb, with_reg=True)
            loss = obj.total(terms)
            if cfg.w_anchor:
                loss = loss + cfg.w_anchor * L.anchor([params[n] for n in names], anchors)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([params[n] for n in names], 1.0)
            opt.step()
            it += 1
            run_loss.append(loss.item())
            if it % 10 == 0:
                curves["iteration"].append(it)
                curves["train_loss"].append(float(np.mean(run_loss)))
                run_loss = []
            if it % cfg.eval_every == 0:
                evaluate()
                snapshot()
            new = time.time() - t_loop
            bar.update(int(min(new, cfg.budget_s)) - bar.n)
            bar.set_postfix(it=it, loss=f"{loss.item():.4f}", held=f"{best['loss']:.4f}/{base_hold['loss']:.4f}",
                            refresh=False)
            spent = new
    except KeyboardInterrupt:
        interrupted = True
        log("\ndsr-diff-adapt: interrupted: writing the best weights so far (run again to resume)")
    finally:
        bar.close()
    if not interrupted and it % cfg.eval_every and it > best["iteration"]:
        evaluate()  # the last steps since the previous evaluation
    snapshot()

    gain = 1 - best["loss"] / max(base_hold["loss"], 1e-12)
    adapted = not too_few and best["iteration"] > 0 and gain >= cfg.min_gain
    if adapted:
        for n in names:
            params[n].data.copy_(best_tensors[n])
        reason = (f"held-out self-supervised loss {base_hold['loss']:.5f} -> {best['loss']:.5f} "
                  f"({gain:+.1%}) at iteration {best['iteration']}")
        final = model
    elif too_few:
        reason = (f"only {len(held_idx)} held-out frame(s), fewer than {cfg.min_holdout_frames}: not verifiable, the "
                  "base weights are kept unchanged")
        final = base
    else:
        reason = (f"the held-out self-supervised loss did not improve by {cfg.min_gain:.1%} (base "
                  f"{base_hold['loss']:.5f}, best {best['loss']:.5f}): the base weights are kept unchanged")
        final = base
    times = {"read": round(t_read, 2), "profile": round(t_profile, 2), "adapt": round(spent, 1),
             "total": round(time.time() - t_start, 1)}
    frames_info = {"total": len(rec), "train": len(train_idx), "holdout": len(held_idx),
                   "holdout_indices": held_idx, "stamps_ns": [int(s) for s in rec.stamps]}
    # an adapted model serves its sensor alone: the base's clean-input expert is not carried over
    meta = {k: v for k, v in base_meta.items()
            if k not in ("format", "model", "safetensors_sha256", "clean_expert", "holes_expert")}
    meta["adaptation"] = {
        "adapted": adapted, "reason": reason, "base": base_info, "profile": profile.to_dict(),
        "recording": {k: v for k, v in rec.source.items()}, "frames": frames_info, "config": cfg.to_dict(),
        "holdout": {"base": base_hold, "best": best["terms"], "best_iteration": best["iteration"]},
        "iterations": it, "interrupted": interrupted, "curves": curves, "time_s": times,
        "peak_rss_mb": round(_peak_rss_mb(), 1), "device": str(device)}
    st = save_weights(final, out, meta)
    log(f"dsr-diff-adapt: {'adapted' if adapted else 'NOT adapted'}: {reason}")
    log(f"dsr-diff-adapt: wrote {st} and {st.with_suffix('.json')} ({it} iterations, {times['total']:.0f} s)")
    return AdaptResult(str(st), adapted, reason, profile.to_dict(), meta["adaptation"]["holdout"], it, times,
                       frames_info, interrupted, curves)


__all__ = ["adapt", "AdaptConfig", "AdaptResult", "SensorProfile"]
