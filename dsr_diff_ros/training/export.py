"""Ship a trained run: copy the stage-2 EMA weights into the package with provenance in the JSON."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..inference import WEIGHTS_DIR
from ..model.checkpoint import load_weights, paths_for


def export_run(run_dir: str | Path, name: str = "dsr_diff_default", default_steps: int | None = None,
               extra: dict | None = None, dest_dir: str | Path = WEIGHTS_DIR) -> Path:
    """Validate ``<run>/stage2`` by loading it, then write ``<dest>/<name>.safetensors`` + ``.json``."""
    run = Path(run_dir)
    model, meta = load_weights(run / "stage2")
    st_src, _ = paths_for(run / "stage2")
    st_dst, js_dst = paths_for(Path(dest_dir) / name)
    st_dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(st_src, st_dst)
    stage1 = json.loads(paths_for(run / "stage1")[1].read_text()) if paths_for(run / "stage1")[1].exists() else {}
    meta["training"] = {"stage1": stage1.get("training"), "stage2": meta.get("training")}
    if default_steps is not None:
        if not 1 <= default_steps <= model.cfg.timesteps:
            raise ValueError(f"default_steps must be in 1..{model.cfg.timesteps}")
        meta["default_steps"] = default_steps
    meta.update(extra or {})
    js_dst.write_text(json.dumps(meta, indent=2))
    return st_dst
