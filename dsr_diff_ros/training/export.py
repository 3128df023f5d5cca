"""Ship a trained run: copy the stage-2 EMA weights into the package with provenance in the JSON."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..inference import WEIGHTS_DIR
from ..model.checkpoint import load_weights, paths_for
from ..model.ensemble import SIZES

# Keys other tools write into a shipped JSON (``set_clean_expert``, ``set_holes_expert``, ``set_sparse_expert``,
# ``set_hole_fill``, ``set_default_ensemble``):
# a re-export to the same name keeps them, so that new weights do not silently drop the routing.
ROUTING_KEYS = ("clean_expert", "holes_expert", "sparse_expert", "hole_fill", "default_ensemble",
                "ensemble_calibration")
_RECIPE_KEYS = ("iters", "lr", "batch", "patch", "p_synthetic", "data_root", "init_dsrn", "seed", "grn_warmup", "ema",
                "init", "depth_loss")


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _config(run: Path, stage: int) -> dict:
    return _read(run / f"state_stage{stage}.json").get("train_config", {})


def _record(run: Path, stage: int) -> dict:
    """One run's training record of a stage: the exported JSON's ``training`` plus the recipe it ran with."""
    cfg = _config(run, stage)
    return {"run": str(run), **(_read(paths_for(run / f"stage{stage}")[1]).get("training") or {}),
            "recipe": {k: cfg[k] for k in _RECIPE_KEYS if k in cfg}}


def run_history(run: str | Path, _depth: int = 0) -> list[dict]:
    """Training records of ``<run>/stage2``, oldest first, including the runs it was initialised from (a stage-2
    run started with ``--init other/stage2`` is a fine-tune of that one): stage, iterations, hours, data and the
    recipe (lr, p_synthetic, seed, init...)."""
    run = Path(run)
    init = _config(run, 2).get("init")
    out: list[dict] = []
    if init and Path(init).resolve() != (run / "stage1").resolve():
        ip = Path(init)
        if ip.name == "stage2" and _depth < 8:
            out += run_history(ip.parent, _depth + 1)
        else:
            out.append({"weights": str(ip), **(_read(paths_for(ip)[1]).get("training") or {})})
    elif paths_for(run / "stage1")[1].exists():
        out.append(_record(run, 1))
    out.append(_record(run, 2))
    return out


def export_run(run_dir: str | Path, name: str = "dsr_diff_default", default_steps: int | None = None,
               extra: dict | None = None, dest_dir: str | Path = WEIGHTS_DIR, note: str | None = None) -> Path:
    """Validate ``<run>/stage2`` by loading it, then write ``<dest>/<name>.safetensors`` + ``.json``.

    The JSON's ``training`` holds ``stage1`` (the first stage-1 record), ``stage2`` (this run's), ``history``
    (every run on the way, see ``run_history``) and ``hours`` (their sum). When ``<name>.json`` exists, its
    ``ROUTING_KEYS`` (experts and ensemble size) are kept unless ``extra`` gives them; ``default_steps`` is kept
    too when the call gives none. Every check runs before a file is written: a ``default_steps`` (given or kept)
    outside ``1..timesteps`` of the new model raises ``ValueError`` and leaves the shipped pair as it was."""
    run = Path(run_dir)
    model, meta = load_weights(run / "stage2")
    st_src, _ = paths_for(run / "stage2")
    st_dst, js_dst = paths_for(Path(dest_dir) / name)
    old = _read(js_dst)
    kept = {k: old[k] for k in ROUTING_KEYS if k in old}
    kept_steps = default_steps is None and "default_steps" in old
    if kept_steps:
        default_steps = int(old["default_steps"])
    if default_steps is not None and not 1 <= default_steps <= model.cfg.timesteps:
        src = f"kept from {js_dst.name}; pass default_steps" if kept_steps else "given"
        raise ValueError(f"default_steps={default_steps} ({src}) must be in 1..{model.cfg.timesteps}, "
                         f"the timesteps of {run / 'stage2'}")
    st_dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(st_src, st_dst)
    history = run_history(run)
    stage1 = next((h for h in history if h.get("stage") == 1), None)
    meta["training"] = {"stage1": stage1, "stage2": meta.get("training"), "history": history,
                        "hours": round(sum(h.get("hours") or 0 for h in history), 3)}
    if note:
        meta["training"]["note"] = note
    if default_steps is not None:
        meta["default_steps"] = default_steps
    meta.update(kept)
    meta.update(extra or {})
    js_dst.write_text(json.dumps(meta, indent=2))
    return st_dst


def set_clean_expert(main: str | Path, clean: str, max_sigma: float, min_valid: float = 0.999,
                     calibration: dict | None = None, bands: list[dict] = (), name: str | None = None) -> Path:
    """Name ``clean`` (weights in the same folder) as the clean-input expert of ``main`` in main's JSON: frames whose
    measured noise is at most ``max_sigma`` (fraction of the farthest depth) with at least ``min_valid`` valid LR
    pixels go to it (``inference.Upscaler``). ``bands``: clean experts for scale bands, each
    ``{"weights": NAME, "max_ratio": R, "name": LABEL}`` (calls with ratio <= R use the first that holds it; an
    optional ``"max_sigma"`` replaces ``max_sigma`` there).
    ``name``: the label ``Upscaler.experts()`` gives ``clean`` (default "clean"). ``calibration`` (how the
    thresholds were chosen) is stored beside."""
    _, js = paths_for(main)
    for w in [clean] + [b["weights"] for b in bands]:
        if not paths_for(Path(js).parent / w)[0].exists():
            raise FileNotFoundError(f"clean expert {w!r} not found next to {js}")
    if any(not float(b["max_ratio"]) > 1 for b in bands):
        raise ValueError(f"band max_ratio must be > 1: {list(bands)}")
    meta = json.loads(Path(js).read_text())
    meta["clean_expert"] = {"weights": clean, "max_sigma": float(max_sigma), "min_valid": float(min_valid),
                            **({"name": name} if name else {}),
                            **({"bands": [dict(b) for b in bands]} if bands else {}),
                            **({"calibration": calibration} if calibration else {})}
    Path(js).write_text(json.dumps(meta, indent=2))
    return Path(js)


def set_holes_expert(main: str | Path, holes: str, max_valid: float = 0.999, name: str = "sensor_holes",
                     calibration: dict | None = None, max_ratio: float | None = None) -> Path:
    """Name ``holes`` (weights in the same folder) as the expert of ``main`` for frames that are not clean and have
    fewer than ``max_valid`` of their LR pixels valid, in calls upscaling by at most ``max_ratio`` (None: any)
    (``inference.Upscaler``); ``calibration`` is stored beside."""
    _, js = paths_for(main)
    if not paths_for(Path(js).parent / holes)[0].exists():
        raise FileNotFoundError(f"holes expert {holes!r} not found next to {js}")
    if not 0 < float(max_valid) <= 1.0:
        raise ValueError(f"max_valid must be in (0, 1], got {max_valid}")
    if max_ratio is not None and not float(max_ratio) > 1:
        raise ValueError(f"max_ratio must be > 1, got {max_ratio}")
    meta = json.loads(Path(js).read_text())
    meta["holes_expert"] = {"weights": holes, "max_valid": float(max_valid), "name": name,
                            **({"max_ratio": float(max_ratio)} if max_ratio is not None else {}),
                            **({"calibration": calibration} if calibration else {})}
    Path(js).write_text(json.dumps(meta, indent=2))
    return Path(js)


def set_sparse_expert(main: str | Path, sparse: str, max_valid: float, min_ratio: float = 1.0, name: str = "sparse",
                      calibration: dict | None = None) -> Path:
    """Name ``sparse`` (weights in the same folder) as the expert of ``main`` for frames that run hole-filled and had
    fewer than ``max_valid`` of their LR pixels valid, in calls upscaling by more than ``min_ratio``
    (``inference.Upscaler``); ``calibration`` is stored beside."""
    _, js = paths_for(main)
    if not paths_for(Path(js).parent / sparse)[0].exists():
        raise FileNotFoundError(f"sparse expert {sparse!r} not found next to {js}")
    if not 0 <= float(max_valid) <= 1.0:
        raise ValueError(f"max_valid must be in [0, 1], got {max_valid}")
    meta = json.loads(Path(js).read_text())
    meta["sparse_expert"] = {"weights": sparse, "max_valid": float(max_valid), "min_ratio": float(min_ratio),
                             "name": name, **({"calibration": calibration} if calibration else {})}
    Path(js).write_text(json.dumps(meta, indent=2))
    return Path(js)


def set_default_ensemble(main: str | Path, ensemble: int, calibration: dict | None = None) -> Path:
    """Store ``ensemble`` (1, 2, 4 or 8) as ``default_ensemble`` of ``main``: the self-ensemble size
    ``Upscaler.upscale`` uses when the call names none (``model.ensemble``); ``calibration`` (how it was chosen)
    is stored beside."""
    if isinstance(ensemble, bool) or ensemble not in SIZES:
        raise ValueError(f"ensemble must be one of {SIZES}, got {ensemble!r}")
    _, js = paths_for(main)
    meta = json.loads(Path(js).read_text())
    meta["default_ensemble"] = int(ensemble)
    if calibration:
        meta["ensemble_calibration"] = calibration
    else:
        meta.pop("ensemble_calibration", None)
    Path(js).write_text(json.dumps(meta, indent=2))
    return Path(js)


def set_hole_fill(main: str | Path, max_valid: float, calibration: dict | None = None,
                  hedge_max_valid: float = 0.0) -> Path:
    """Store ``"hole_fill": {"max_valid": V, "hedge_max_valid": H}`` in ``main``'s JSON: frames with fewer than V of
    their LR pixels valid are hole-filled (nearest valid pixel) before routing, and with a self-ensemble the other
    frames with fewer than H valid run every second copy hole-filled (``inference.Upscaler``); 0 turns either off;
    ``calibration`` (how they were chosen) is stored beside."""
    for nm, v in (("max_valid", max_valid), ("hedge_max_valid", hedge_max_valid)):
        if not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"{nm} must be in [0, 1], got {v}")
    _, js = paths_for(main)
    meta = json.loads(Path(js).read_text())
    meta["hole_fill"] = {"max_valid": float(max_valid),
                         **({"hedge_max_valid": float(hedge_max_valid)} if hedge_max_valid else {}),
                         **({"calibration": calibration} if calibration else {})}
    Path(js).write_text(json.dumps(meta, indent=2))
    return Path(js)
