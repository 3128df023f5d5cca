"""Heavy noise beyond the tune split: which expert should serve it? (a check, not a calibration)

    python bench/check_noise_routing.py [--seq synthetic_livingroom_seq] [--seeds 4] [--threads 1]

On frames no expert was trained or tuned on (default: the rendered living room in ``rgbd/``, exact, hole-free
depth), for Park et al.'s heavy-noise model (``degrade(..., "noisy")``) at x4 / x8 / x16 and ``--seeds`` noise
draws, it scores one pass (steps 1, no ensemble, as ``calibrate_experts.py``) of the sensor expert
(``dsr_diff_default``, which the shipped routing gives these inputs) and of the clean expert of the input's scale
band (which the tune split prefers), beside bicubic and the guided filter. Prints a table of RMSE (cm) and the
geometric mean of clean / sensor expert RMSE per scale; writes ``bench/results/noise_routing_check.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import rmse_cm  # noqa: E402
from dsr_diff_ros.data.degradations import degrade  # noqa: E402
from dsr_diff_ros.data.folder import RGBDFolder  # noqa: E402
from dsr_diff_ros.data.shared import shared_path  # noqa: E402
from dsr_diff_ros.evaluation.baselines import bicubic, guided  # noqa: E402
from dsr_diff_ros.inference import resolve_weights  # noqa: E402
from dsr_diff_ros.model.checkpoint import load_weights  # noqa: E402
from dsr_diff_ros.model.degradation import image_noise  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(shared_path() or ""))
    ap.add_argument("--seq", default="synthetic_livingroom_seq")
    ap.add_argument("--sensor", default="dsr_diff_default")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "noise_routing_check.json"))
    a = ap.parse_args()
    folder = Path(a.data) / "rgbd" / a.seq
    if not folder.is_dir():
        print(f"check_noise_routing: no {folder}", file=sys.stderr)
        return 2
    torch.set_num_threads(a.threads)
    sensor, cfg = load_weights(resolve_weights(a.sensor))
    spec = cfg.get("clean_expert") or {}
    bands = sorted((float(b["max_ratio"]), b["weights"]) for b in spec.get("bands", []))
    models = {w: load_weights(resolve_weights(w))[0] for w in {w for _, w in bands} | {spec["weights"]}}
    frames = list(RGBDFolder(folder))
    rows = []
    for fi, f in enumerate(frames):
        r = torch.from_numpy(f.rgb).permute(2, 0, 1)[None].float() / 255
        for s in (4, 8, 16):
            band = next((w for mr, w in bands if s <= mr), spec["weights"])
            for seed in range(a.seeds):
                lr = degrade(f.depth, s, "noisy", rng=1000 * fi + seed)
                d = torch.from_numpy(lr)[None, None]
                with torch.no_grad():
                    p = sensor.prepare(d, r)
                    out = {"sensor_expert": sensor.run(d, r, steps=1, prepared=p).depth,
                           "clean_expert": models[band].run(d, r, steps=1, prepared=p).depth}
                row = {k: rmse_cm(v[0, 0].numpy(), f.depth) for k, v in out.items()}
                row.update(bicubic=rmse_cm(bicubic(lr, f.rgb), f.depth), guided=rmse_cm(guided(lr, f.rgb), f.depth))
                rows.append(dict(frame=f.name, scale=s, seed=seed, band=band, noise=float(image_noise(p.lr)[0]), **row))
    print(f"{folder.name}: {len(frames)} frames x {a.seeds} heavy-noise draws; mean RMSE (cm), one pass")
    print(f"{'scale':>5} {'bicubic':>8} {'guided':>8} {'sensor':>8} {'clean':>8}  clean/sensor (geo mean, worst)")
    summary = {}
    for s in (4, 8, 16):
        rs = [x for x in rows if x["scale"] == s]
        m = {k: float(np.mean([x[k] for x in rs])) for k in ("bicubic", "guided", "sensor_expert", "clean_expert")}
        q = [x["clean_expert"] / x["sensor_expert"] for x in rs]
        m.update(clean_vs_sensor=float(np.exp(np.mean(np.log(q)))), worst=float(max(q)), n=len(rs))
        summary[f"x{s}"] = m
        print(f"x{s:<4} {m['bicubic']:8.2f} {m['guided']:8.2f} {m['sensor_expert']:8.2f} {m['clean_expert']:8.2f}"
              f"  {m['clean_vs_sensor']:.3f} {m['worst']:.3f}")
    Path(a.out).write_text(json.dumps({"seq": a.seq, "sensor": a.sensor, "bands": bands, "summary": summary,
                                       "rows": rows}, indent=1))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
