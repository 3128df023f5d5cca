"""Training curves (loss and validation RMSE vs iteration) from the run's CSV logs, as a PNG."""
from __future__ import annotations

import csv
from pathlib import Path


def _read(path: Path) -> list[dict]:
    return list(csv.DictReader(open(path))) if path.exists() else []


def plot_curves(run_dir: str | Path, out_png: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = Path(run_dir)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    offset = 0
    for stage in (1, 2):
        rows = _read(run / f"log_stage{stage}.csv")
        if not rows:
            continue
        it = [offset + int(r["iteration"]) for r in rows]
        for key, style in (("l_depth", "-"), ("l_z", ":")):
            pts = [(i, float(r[key])) for i, r in zip(it, rows) if r[key] not in ("nan", "")]
            if pts:
                # running mean over 8 log points: single batches are noisy
                ys = [sum(y for _, y in pts[max(0, k - 7):k + 1]) / len(pts[max(0, k - 7):k + 1])
                      for k in range(len(pts))]
                ax1.plot([p[0] for p in pts], ys, style, label=f"stage {stage} {key}")
        for key, style in (("val_ratio", "o-"), ("val_ratio_bicubic", "s:"), ("val_ratio_x8", "d:"),
                           ("val_ratio_x16", "v:"), ("val_ratio_sensor", "^:"), ("val_ratio_noisy", "x:")):
            val = [(i, float(r[key])) for i, r in zip(it, rows) if r.get(key) not in (None, "nan", "")]
            if val:
                ax2.plot([v[0] for v in val], [v[1] for v in val], style, label=f"stage {stage} {key[4:]}")
        offset = it[-1]
    ax1.set(xlabel="iteration", ylabel="L1 (normalised depth / guidance)", yscale="log", title="training loss")
    ax2.axhline(1.0, color="k", alpha=0.4, lw=1)
    ax2.set(xlabel="iteration", ylabel="RMSE / bicubic RMSE (geometric mean)",
            title="validation: real tune frames (bicubic x4/x8/x16, sensor and heavy noise x4)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
