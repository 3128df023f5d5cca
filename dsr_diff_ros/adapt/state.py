"""Resumable adaptation state: ``<out>.adapt_state.safetensors`` (current and best adapted tensors, Adam moments)
+ ``<out>.adapt_state.json`` (iteration, time spent, curves, the base weights' hash). Never pickle."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import torch
from safetensors.torch import load_file, save_file

from ..model.checkpoint import paths_for


def state_paths(out: str | os.PathLike) -> tuple[Path, Path]:
    st, _ = paths_for(out)
    stem = st.with_suffix("")
    return stem.with_name(stem.name + ".adapt_state.safetensors"), stem.with_name(stem.name + ".adapt_state.json")


def save_state(out, names: list, current: dict, best: dict, opt: torch.optim.Optimizer, info: dict) -> None:
    """names: the adapted parameter names in optimizer order; current/best: {name: tensor}."""
    st, js = state_paths(out)
    st.parent.mkdir(parents=True, exist_ok=True)
    t = {f"cur.{k}": v.detach().float().contiguous().cpu() for k, v in current.items()}
    t.update({f"best.{k}": v.detach().float().contiguous().cpu() for k, v in best.items()})
    params = opt.param_groups[0]["params"]
    for name, p in zip(names, params):
        s = opt.state.get(p, {})
        for key in ("exp_avg", "exp_avg_sq"):
            if key in s:
                t[f"opt.{key}.{name}"] = s[key].detach().float().contiguous().cpu()
        if "step" in s:
            info.setdefault("adam_step", {})[name] = float(s["step"])
    tmp = st.with_suffix(".tmp")
    save_file(t, str(tmp))
    os.replace(tmp, st)
    js.write_text(json.dumps(info, indent=1))


def load_state(out) -> Optional[tuple[dict, dict]]:
    """(tensors, info) of a saved state, or None when there is none."""
    st, js = state_paths(out)
    if not (st.exists() and js.exists()):
        return None
    return load_file(str(st)), json.loads(js.read_text())


def restore_optimizer(opt: torch.optim.Optimizer, names: list, tensors: dict, info: dict) -> None:
    steps = info.get("adam_step", {})
    for name, p in zip(names, opt.param_groups[0]["params"]):
        if f"opt.exp_avg.{name}" in tensors:
            opt.state[p] = {"step": torch.tensor(steps.get(name, 0.0)),
                            "exp_avg": tensors[f"opt.exp_avg.{name}"].to(p.device),
                            "exp_avg_sq": tensors[f"opt.exp_avg_sq.{name}"].to(p.device)}


def remove_state(out) -> None:
    for p in state_paths(out):
        p.unlink(missing_ok=True)
