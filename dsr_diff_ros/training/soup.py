"""Uniform weight averaging ("model soup", Wortsman et al., ICML 2022) of runs fine-tuned from one init.

    python -m dsr_diff_ros.training.soup RUN_A/stage2 RUN_B/stage2 [...] --out runs/soup

Runs that start from the same weights and differ only in seed / learning rate stay in one basin, and the mean of
their weights is often better than each (no extra inference cost). The inputs must share the architecture; the
output is ``<out>/stage2.safetensors`` + ``.json`` (a run folder ``training.export.export_run`` can ship), its
``training`` record naming every input with its own record.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from ..model.checkpoint import WeightsError, load_weights, save_weights


def average_weights(paths: list[str | Path], out_dir: str | Path) -> Path:
    """Mean of the float tensors of ``paths`` (weights stems), written to ``<out_dir>/stage2``; integer buffers
    must agree. Raises WeightsError when the architectures differ or fewer than two inputs are given."""
    if len(paths) < 2:
        raise WeightsError("a soup needs at least two weights files")
    loaded = [load_weights(p) for p in paths]
    model, cfg0 = loaded[0]
    for p, (_, cfg) in zip(paths[1:], loaded[1:]):
        if cfg["model"] != cfg0["model"]:
            raise WeightsError(f"{p}: architecture differs from {paths[0]}")
    sds = [m.state_dict() for m, _ in loaded]
    avg = {}
    for k, v in sds[0].items():
        if v.is_floating_point():
            avg[k] = torch.stack([sd[k].float() for sd in sds]).mean(0).to(v.dtype)
        elif all(torch.equal(sd[k], v) for sd in sds[1:]):
            avg[k] = v
        else:
            raise WeightsError(f"non-float tensor {k} differs between the inputs")
    model.load_state_dict(avg)
    records = [{"weights": str(p), **(cfg.get("training") or {})} for p, (_, cfg) in zip(paths, loaded)]
    training = {"stage": 2, "soup": records,
                "iterations": sum(int(r.get("iterations") or 0) for r in records),
                "hours": round(sum(float(r.get("hours") or 0) for r in records), 3)}
    return save_weights(model.eval(), Path(out_dir) / "stage2", meta={"training": training})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", nargs="+", help="weights stems (RUN/stage2, a snapshot, a shipped name's path)")
    ap.add_argument("--out", required=True, help="run folder to write stage2.safetensors + .json into")
    a = ap.parse_args(argv)
    try:
        print(average_weights(a.weights, a.out))
    except WeightsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
