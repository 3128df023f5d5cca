"""dsr-diff-eval: score the model and the classical baselines on one protocol, write Markdown/JSON/figures.

    dsr-diff-eval --data ../shared/data/rgbd --scales 4 8 16 --out reports/eval
    dsr-diff-eval --protocol nyu --data nyu_depth_v2_labeled.mat --scales 4 8 16
    dsr-diff-eval --protocol middlebury --data path/to/middlebury --scales 4 8 16
    dsr-diff-eval --data seq/ --sweeps --compare-weights other.safetensors   # steps / oracle / FFM sweeps
    dsr-diff-eval --data ../shared/data/rgbd/kinect_office_seq --ablation    # what the guidance prior contributes
"""
from __future__ import annotations

import argparse
import logging
import sys

from ..data.degradations import KERNELS
from ..data.folder import DatasetError
from ..evaluation.metrics import UNIT_FACTOR
from ..pipeline import ENSEMBLE_SIZES
from ..evaluation.baselines import BASELINES, EXTRA_BASELINES
from .argtypes import MAX_SCALE, non_negative_int, positive_int, sr_scale

DEFAULT_METHODS = list(BASELINES) + ["ours", "oracle"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dsr-diff-eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="RGB-D sequence folder or a folder of them (sensor protocol); "
                   "nyu_depth_v2_labeled.mat (nyu); folder of png pairs (middlebury/lu)")
    p.add_argument("--protocol", default="sensor", choices=["sensor", "nyu", "middlebury", "lu"])
    p.add_argument("--scales", type=sr_scale, nargs="+", default=[4, 8, 16],
                   help=f"HR/LR factors, each > 1 and <= {MAX_SCALE} (default: 4 8 16)")
    p.add_argument("--modes", nargs="+", choices=["sensor", "bicubic", "noisy", *KERNELS], default=None,
                   help="degradations (default: sensor and bicubic for the sensor protocol, bicubic otherwise); "
                        f"{', '.join(KERNELS)}: the clean protocol downsampled with another kernel (OpenCV's "
                        "aliased cubic / linear, nearest at the top-left or centre phase, block mean)")
    p.add_argument("--methods", nargs="+", default=DEFAULT_METHODS,
                   help=f"any of {', '.join(list(BASELINES) + list(EXTRA_BASELINES))}, ours, oracle")
    p.add_argument("--weights", default=None, help="Upscaler weights (name or path; default: shipped weights)")
    p.add_argument("--device", default="auto")
    p.add_argument("--steps", type=int, default=None, help="diffusion steps for 'ours' (default: the model's)")
    p.add_argument("--ensemble", type=int, choices=ENSEMBLE_SIZES, default=None,
                   help="self-ensemble size for 'ours' (default: the model's; the shipped model: 8)")
    p.add_argument("--max-frames", type=positive_int, default=None, help="frames per sequence (default: all)")
    p.add_argument("--out", default="reports/eval", help="output folder")
    p.add_argument("--unit", default=None, choices=list(UNIT_FACTOR), help="override the protocol's unit")
    p.add_argument("--crop", type=non_negative_int, default=None,
                   help="override the border crop (pixels; frames it leaves no pixel of are skipped)")
    p.add_argument("--edge-width", type=non_negative_int, default=None,
                   help="half-width of the edge band (pixels; 0: the discontinuity pixels only; default 2)")
    p.add_argument("--depth-div", type=float, default=1.0, help="middlebury/lu: divide stored depth by this")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--examples", type=int, default=1, help="frames per sequence drawn in the figures")
    p.add_argument("--no-figures", action="store_true")
    p.add_argument("--sweeps", action="store_true", help="also run steps / guidance / FFM sweeps (needs weights)")
    p.add_argument("--sweep-scale", type=sr_scale, default=8)
    p.add_argument("--compare-weights", default=None, help="second checkpoint for the FFM comparison")
    p.add_argument("--ablation", action="store_true",
                   help="also run the prior ablation (oracle / GRN / mean / other frame's / zero prior; steps 1..T) "
                        "at x4 on the first mode, over up to --max-frames (default 8) frames")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def open_sources(protocol: str, data: str, depth_div: float = 1.0) -> tuple[list, list]:
    """[(name, source)] and [(path, problem)] for a protocol's --data argument (DatasetError if unusable)."""
    from pathlib import Path
    if protocol == "nyu":
        from ..data.nyu import NYUv2
        return [("nyu_v2", NYUv2(data, split="test"))], []
    if protocol in ("middlebury", "lu"):
        from ..evaluation.datasets import PairFolder
        root = Path(data)
        try:
            return [(root.name, PairFolder(root, depth_div))], []
        except DatasetError as first:
            if not root.is_dir():
                raise
            srcs, probs = [], []
            for sub in sorted(p for p in root.iterdir() if p.is_dir()):
                try:
                    srcs.append((sub.name, PairFolder(sub, depth_div)))
                except DatasetError as e:
                    probs.append((str(sub), str(e)))
            if not srcs:
                raise first
            return srcs, probs
    from ..evaluation.datasets import discover_sequences
    return discover_sequences(data)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from ..evaluation.protocols import evaluate, get_protocol, load_upscaler, methods_for
    from ..evaluation.report import write_report

    try:
        sources, problems = open_sources(args.protocol, args.data, args.depth_div)
    except DatasetError as e:
        print(f"dsr-diff-eval: error: {e}", file=sys.stderr)
        return 2
    proto = get_protocol(args.protocol, unit=args.unit, crop=args.crop, edge_width=args.edge_width)
    notes = [f"{p}: not used ({m})" for p, m in problems]
    for n in notes:
        print(f"warning: {n}", file=sys.stderr)
    try:
        up, methods = methods_for(args.methods, args.weights, args.device, args.steps, notes,
                                  need_model=args.sweeps or args.ablation, ensemble=args.ensemble)
    except KeyError as e:
        print(f"dsr-diff-eval: error: {e.args[0]}", file=sys.stderr)
        return 2
    for n in notes[len(problems):]:
        print(f"warning: {n}", file=sys.stderr)
    scales = [int(s) if float(s).is_integer() else s for s in args.scales]
    res = evaluate(sources, methods, scales=scales, protocol=proto, modes=args.modes,
                   max_frames=args.max_frames, progress=not args.quiet, n_examples=args.examples, seed=args.seed)
    res.notes.extend(notes)
    if up is not None:
        res.config["model_id"] = getattr(up, "model_id", None)
        res.config["steps"] = args.steps or getattr(up, "default_steps", None)
        res.config["ensemble"] = args.ensemble or getattr(up, "default_ensemble", None)
    res.config["data"] = str(args.data)
    files = write_report(res, args.out, title=f"dsr_diff_ros evaluation: {args.protocol} protocol",
                         figures=not args.no_figures)
    print(files["table"])
    for w, m in res.errors:
        print(f"skipped {w}: {m}", file=sys.stderr)
    print(f"wrote {files['md']}, {files['json']} and {len(files['figures'])} figures")
    if args.sweeps:
        if up is None:
            print("warning: --sweeps needs the model weights; skipped", file=sys.stderr)
        else:
            from ..evaluation.sweeps import run_sweeps
            up_b = load_upscaler(args.compare_weights, args.device, res.notes) if args.compare_weights else None
            run_sweeps(up, sources, f"{args.out}/sweeps", up_b=up_b, scale=args.sweep_scale, scales=scales,
                       mode=(args.modes or proto.modes)[0], protocol=proto, max_frames=args.max_frames or 4,
                       progress=not args.quiet)
            print(f"wrote {args.out}/sweeps/sweeps.md")
    if args.ablation and up is not None:
        import json
        from pathlib import Path

        from ..evaluation.prior_ablation import markdown, prior_ablation
        frames = []
        for _, src in sources:
            for smp in src:
                if len(frames) < (args.max_frames or 8):
                    frames.append((smp.name, smp.rgb, smp.depth.astype("float32") * proto.model_scale))
        ab = prior_ablation(up, frames, scale=4, mode=(args.modes or proto.modes)[0], unit=proto.unit)
        out = Path(args.out)
        (out / "ablation.json").write_text(json.dumps(ab, indent=1))
        (out / "ablation.md").write_text(markdown(ab))
        print(markdown(ab))
        print(f"wrote {out / 'ablation.md'}")
    return 0 if res.rows else 1


if __name__ == "__main__":
    sys.exit(main())
