"""dsr-diff-train: two-stage DSR-Diff training on real RGB-D pairs + procedural scenes (resumable; torchrun for DDP)."""
from __future__ import annotations

import argparse
import json

from ..model import ModelConfig
from ..training.trainer import TrainConfig, TrainConfigError, train


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="runs/default", help="run folder (state, logs, exported weights)")
    ap.add_argument("--stage", type=int, choices=(1, 2), default=1)
    ap.add_argument("--iters", type=int, default=6000, help="total iterations of this stage")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--patch", type=int, default=128, help="HR patch size (pixels)")
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--grn-warmup", type=int, default=0, help="stage 2: GRN-only iterations first")
    ap.add_argument("--init", default=None, help="stage 2: stage-1 weights (default <out>/stage1)")
    ap.add_argument("--max-minutes", type=float, default=None, help="stop (resumably) after this long")
    ap.add_argument("--scene-cache", default=None, metavar="DIR",
                    help="keep the generated procedural scenes here (.npz) so later runs of the same patch and seed "
                         "start without generating them (~1 s per 384 px scene); default: memory only")
    ap.add_argument("--time-schedule", action="store_true",
                    help="with --max-minutes: the learning-rate cosine follows the time budget (fixed-length leases)")
    ap.add_argument("--dsrn-lr-scale", type=float, default=1.0,
                    help="stage 2: the decoder's (DSRN and the refinement) learning rate relative to GRN's (< 1 keeps "
                         "stage 1's use of the prior; 0 trains GRN alone)")
    ap.add_argument("--p-oracle", type=float, default=0.0,
                    help="stage 2: share of batches in which DSRN reads GGN's (oracle) prior instead of GRN's")
    ap.add_argument("--z-weight", type=float, default=1.0,
                    help="stage 2: weight of L1(z, z_GGN) beside L1(depth) (DiffIR: 1; lower lets GRN's prior serve "
                         "the decoder rather than imitate GGN's)")
    ap.add_argument("--depth-loss", choices=("l1", "rmse"), default="l1",
                    help="depth loss: L1 (DiffIR) or the per-sample RMSE (the evaluation metric; a fine-tuning probe)")
    ap.add_argument("--refine-ch", type=int, default=None,
                    help="stage 1: channels of the full-resolution refinement (default none); stage 2: add it to the "
                         "init weights (zero-initialised output, so training starts from the init's outputs)")
    ap.add_argument("--refine-feat", type=int, default=0,
                    help="stage 1: DSRN feature channels the refinement reads at full resolution (needs --refine-ch)")
    ap.add_argument("--grow", action="append", default=[], metavar="KEY=N",
                    help="stage 2: grow the init weights (fuse_blocks, dfe_blocks, cfe_blocks: more blocks, each "
                         "starting as the identity; refine_ch: add the refinement; refine_feat: feed it DSRN's "
                         "features; deg_ch=3: the measured noise maps and ratio into the prior embedding); "
                         "repeatable")
    ap.add_argument("--mix", action="append", default=[], metavar="KEY=P",
                    help="training mix: a BatchSpec probability (p_x4, p_bicubic, p_noisy_bicubic, p_fill, ...) "
                         "or scale_range=LO:HI; repeatable")
    ap.add_argument("--workers", type=int, default=1, help="data-generation worker processes")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-root", default=None,
                    help="folder with rgbdd_train/ and middlebury_train/ (default: $DSR_SHARED_DATA or ../shared/data "
                         "when present; 'none': procedural scenes only)")
    ap.add_argument("--p-synthetic", type=float, default=0.3, help="share of procedural samples beside real data")
    ap.add_argument("--init-dsrn", default=None,
                    help="stage 1: warm-start tensors (safetensors), loaded where names and shapes match")
    ap.add_argument("--ema", type=float, default=0.999, help="EMA decay of the exported weights")
    ap.add_argument("--val-every", type=int, default=500)
    ap.add_argument("--ckpt-every", type=int, default=250)
    ap.add_argument("--snapshot-every", type=int, default=0, metavar="N",
                    help="also keep the EMA weights every N iterations as <out>/snaps/it<N>.safetensors + .json")
    ap.add_argument("--dim", type=int, default=None, help="model width (stage 1 only)")
    ap.add_argument("--fusion", choices=("multiply", "concat"), default="multiply", help="FFM variant (stage 1)")
    ap.add_argument("--export", metavar="NAME", default=None,
                    help="do not train: ship <out>/stage2 as dsr_diff_ros/weights/NAME and plot <out>/curves.png")
    ap.add_argument("--default-steps", type=int, default=None, help="with --export: the shipped default steps")
    ap.add_argument("--note", default=None, help="with --export: a remark stored in the JSON (training.note)")
    a = ap.parse_args(argv)
    if a.export:
        from ..training.curves import plot_curves
        from ..training.export import export_run

        dst = export_run(a.out, a.export, a.default_steps, note=a.note)
        print(f"exported {dst}; curves: {plot_curves(a.out, f'{a.out}/curves.png')}")
        return 0
    def pairs(values: list[str], cast, flag: str) -> dict:
        try:
            return {k: cast(v) for k, v in (item.split("=", 1) for item in values)}
        except ValueError:
            ap.error(f"{flag} takes KEY=VALUE ({cast.__name__}), got {values}")

    def number_or_range(v: str):   # "0.2" or "2:5.66" (scale_range)
        return tuple(float(x) for x in v.split(":")) if ":" in v else float(v)

    number_or_range.__name__ = "number or LO:HI"
    grow, mix = pairs(a.grow, int, "--grow"), pairs(a.mix, number_or_range, "--mix")
    mcfg = ModelConfig(fusion=a.fusion, refine_ch=a.refine_ch or 0, refine_feat=a.refine_feat,
                       **({"dim": a.dim} if a.dim else {}))
    cfg = TrainConfig(out=a.out, stage=a.stage, iters=a.iters, batch=a.batch, patch=a.patch, lr=a.lr,
                      grn_warmup=a.grn_warmup, init=a.init, max_minutes=a.max_minutes, workers=a.workers,
                      threads=a.threads, seed=a.seed, ema=a.ema, val_every=a.val_every, ckpt_every=a.ckpt_every,
                      snapshot_every=a.snapshot_every,
                      data_root=a.data_root, p_synthetic=a.p_synthetic, init_dsrn=a.init_dsrn, model=mcfg,
                      time_schedule=a.time_schedule, scene_cache=a.scene_cache, dsrn_lr_scale=a.dsrn_lr_scale,
                      refine_ch=a.refine_ch if a.stage == 2 else None, p_oracle=a.p_oracle, z_weight=a.z_weight,
                      depth_loss=a.depth_loss,
                      grow=grow, mix=mix)
    try:
        result = train(cfg)
    except TrainConfigError as e:   # a bad --grow / --mix request: say so instead of a traceback
        ap.error(str(e))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
