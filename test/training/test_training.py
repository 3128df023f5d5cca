"""Tiny real training runs: loss goes down in stage 1 and 2, resume continues, DDP runs on 2 CPU processes."""
import csv
import os
import subprocess
import sys

import pytest
import torch

from dsr_diff_ros.model import DSRDiff, ModelConfig
from dsr_diff_ros.model.checkpoint import load_weights
from dsr_diff_ros.training.dataset import BatchSpec, SyntheticBatches
from dsr_diff_ros.training.trainer import StageLoss, TrainConfig, train

TINY = ModelConfig(dim=16, heads=2, dfe_blocks=1, cfe_blocks=1, fuse_blocks=1, z_dim=32, ggn_channels=8,
                   grn_channels=8)


def _overfit(stage: int, model: DSRDiff, steps: int = 40) -> tuple[float, float]:
    batch = SyntheticBatches(BatchSpec(batch=2, patch=32, p_x4=1.0), seed=3)[0]
    loss_mod = StageLoss(model, stage)
    params = [p for n, p in model.named_parameters() if not n.startswith("ggn" if stage == 2 else "grn")]
    opt = torch.optim.Adam(params, lr=2e-3)
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(steps):
        noise = torch.randn(2, TINY.z_dim, generator=g)
        loss, _ = loss_mod(batch["rgb"], batch["depth_hr"], batch["depth_lr"], TINY.timesteps, noise)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return sum(losses[:3]) / 3, sum(losses[-3:]) / 3


def test_stage1_and_stage2_lower_the_loss():
    torch.manual_seed(0)
    m = DSRDiff(TINY)
    first, last = _overfit(1, m)
    assert last < 0.7 * first
    first, last = _overfit(2, m)
    assert last < 0.7 * first


def test_train_resume_and_export(tmp_path):
    cfg = TrainConfig(out=str(tmp_path), stage=1, iters=4, batch=2, patch=32, workers=0, val_every=4,
                      ckpt_every=2, warmup_iters=1, model=TINY)
    r = train(TrainConfig(**{**cfg.__dict__, "iters": 2}))
    assert r["iteration"] == 2
    r = train(cfg)  # resumes at 2
    assert r["iteration"] == 4 and r["done"]
    rows = list(csv.DictReader(open(tmp_path / "log_stage1.csv")))
    assert rows[-1]["iteration"] == "4" and float(rows[-1]["val_rmse"]) > 0
    m, meta = load_weights(tmp_path / "stage1")
    assert meta["training"]["iterations"] == 4 and m.cfg == TINY
    r2 = train(TrainConfig(out=str(tmp_path), stage=2, iters=2, batch=2, patch=32, workers=0, val_every=2,
                           grn_warmup=1, warmup_iters=1))
    assert r2["done"] and (tmp_path / "stage2.safetensors").exists()
    from dsr_diff_ros import Upscaler
    from dsr_diff_ros.training.curves import plot_curves
    from dsr_diff_ros.training.export import export_run

    st = export_run(tmp_path, "shipped", default_steps=1, dest_dir=tmp_path / "weights")
    up = Upscaler.from_pretrained(st, device="cpu")
    assert up.default_steps == 1 and up.config["training"]["stage1"]["iterations"] == 4
    with pytest.raises(ValueError):
        export_run(tmp_path, "bad", default_steps=9, dest_dir=tmp_path / "weights")
    # a fine-tune of the stage-2 weights in another run: the export keeps the whole history
    ft = tmp_path / "ft"
    train(TrainConfig(out=str(ft), stage=2, iters=1, batch=2, patch=32, workers=0, val_every=1, warmup_iters=1,
                      init=str(tmp_path / "stage2"), misregister=0.5))
    meta = Upscaler.from_pretrained(export_run(ft, "ft", dest_dir=tmp_path / "weights"), device="cpu").config
    hist = meta["training"]["history"]
    assert [(h["stage"], h["iterations"]) for h in hist] == [(1, 4), (2, 2), (2, 1)]
    assert hist[-1]["recipe"]["misregister"] == 0.5 and hist[-1]["recipe"]["init"] == str(tmp_path / "stage2")
    assert meta["training"]["stage1"]["iterations"] == 4
    assert plot_curves(tmp_path, tmp_path / "curves.png").stat().st_size > 1000


@pytest.mark.slow
def test_ddp_two_cpu_processes(tmp_path):
    code = (
        "from dsr_diff_ros.training.trainer import TrainConfig, train\n"
        "from dsr_diff_ros.model import ModelConfig\n"
        f"m = ModelConfig(**{TINY.to_dict()!r})\n"
        f"print(train(TrainConfig(out={str(tmp_path)!r}, iters=3, batch=2, patch=32, workers=0, val_every=3,"
        " warmup_iters=1, threads=1, model=m)))\n"
    )
    script = tmp_path / "ddp.py"
    script.write_text(code)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        str(script)], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    m, meta = load_weights(tmp_path / "stage1")
    assert meta["training"]["iterations"] == 3 and meta["training"]["batch"] == 4  # 2 ranks x 2


def test_misregistration_augmentation_shifts_colour_only():
    base = SyntheticBatches(BatchSpec(batch=2, patch=32), seed=5)[0]
    same = SyntheticBatches(BatchSpec(batch=2, patch=32, p_misregister=0.0), seed=5)[0]
    assert torch.equal(base["rgb"], same["rgb"])  # off: the data stream is unchanged
    shifted = SyntheticBatches(BatchSpec(batch=2, patch=32, p_misregister=1.0, max_shift=2.0), seed=5)[0]
    assert torch.equal(shifted["depth_hr"], base["depth_hr"]) and torch.equal(shifted["depth_lr"], base["depth_lr"])
    diff = (shifted["rgb"] - base["rgb"]).abs()
    assert diff.mean() > 0.001  # colour moved against the unchanged depth
    # a shift of at most 2 px: the shifted image is closer to the original than to an unrelated image
    assert diff.mean() < (base["rgb"][0] - base["rgb"][1]).abs().mean()
