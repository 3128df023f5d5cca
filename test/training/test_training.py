"""Tiny real training runs: loss goes down in stage 1 and 2, resume continues, DDP runs on 2 CPU processes."""
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from dsr_diff_ros.model import DSRDiff, ModelConfig
from dsr_diff_ros.model.checkpoint import load_weights
from dsr_diff_ros.training.dataset import BatchSpec, TrainingBatches
from dsr_diff_ros.training.trainer import StageLoss, TrainConfig, train

TINY = ModelConfig(dim=16, heads=2, dfe_blocks=1, cfe_blocks=1, fuse_blocks=1, z_ch=4, z_embed=8, ggn_channels=8,
                   grn_channels=8)


def _overfit(stage: int, model: DSRDiff, steps: int = 40) -> tuple[float, float]:
    batch = TrainingBatches(BatchSpec(batch=2, patch=32, p_x4=1.0, bank_size=4), seed=3)[0]
    loss_mod = StageLoss(model, stage)
    params = [p for n, p in model.named_parameters() if not n.startswith("ggn" if stage == 2 else "grn")]
    opt = torch.optim.Adam(params, lr=2e-3)
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(steps):
        loss, _ = loss_mod(batch["rgb"], batch["depth_hr"], batch["depth_lr"], TINY.timesteps, g)
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
    cfg = TrainConfig(out=str(tmp_path), stage=1, iters=4, batch=2, patch=32, workers=0, val_every=4, data_root="none",
                      ckpt_every=2, warmup_iters=1, model=TINY, snapshot_every=2)
    r = train(TrainConfig(**{**cfg.__dict__, "iters": 2}))
    assert r["iteration"] == 2
    r = train(cfg)  # resumes at 2
    assert r["iteration"] == 4 and r["done"]
    # --snapshot-every keeps the EMA weights of each multiple, loadable and distinct
    snaps = {n: load_weights(tmp_path / "snaps" / f"it{n}") for n in (2, 4)}
    assert sorted(p.name for p in (tmp_path / "snaps").iterdir()) == ["it2.json", "it2.safetensors", "it4.json",
                                                                       "it4.safetensors"]
    assert [snaps[n][1]["training"]["iterations"] for n in (2, 4)] == [2, 4]
    assert any(not torch.equal(a, b) for a, b in zip(snaps[2][0].state_dict().values(),
                                                     snaps[4][0].state_dict().values()))
    rows = list(csv.DictReader(open(tmp_path / "log_stage1.csv")))
    assert rows[-1]["iteration"] == "4" and float(rows[-1]["val_ratio"]) > 0
    m, meta = load_weights(tmp_path / "stage1")
    assert meta["training"]["iterations"] == 4 and m.cfg == TINY
    r2 = train(TrainConfig(out=str(tmp_path), stage=2, iters=2, batch=2, patch=32, workers=0, val_every=2, data_root="none",
                           grn_warmup=1, warmup_iters=1))
    assert r2["done"] and (tmp_path / "stage2.safetensors").exists()
    from dsr_diff_ros import Upscaler
    from dsr_diff_ros.training.curves import plot_curves
    from dsr_diff_ros.training.export import export_run

    st = export_run(tmp_path, "shipped", default_steps=1, dest_dir=tmp_path / "weights")
    up = Upscaler.from_pretrained(st, device="cpu")
    assert up.default_steps == 1 and up.config["training"]["stage1"]["iterations"] == 4
    with pytest.raises(ValueError, match="given"):
        export_run(tmp_path, "bad", default_steps=9, dest_dir=tmp_path / "weights")
    assert not list((tmp_path / "weights").glob("bad.*"))  # checked before any file is written
    # re-exporting to a shipped name keeps its routing keys and default steps unless the call replaces them
    from dsr_diff_ros.training.export import set_default_ensemble, set_holes_expert

    set_default_ensemble(st, 4)
    set_holes_expert(st, "shipped", max_valid=0.9)
    meta = json.loads(export_run(tmp_path, "shipped", dest_dir=tmp_path / "weights").with_suffix(".json").read_text())
    assert meta["default_ensemble"] == 4 and meta["holes_expert"]["max_valid"] == 0.9 and meta["default_steps"] == 1
    meta = json.loads(export_run(tmp_path, "shipped", default_steps=2, extra={"default_ensemble": 2},
                                 dest_dir=tmp_path / "weights").with_suffix(".json").read_text())
    assert meta["default_ensemble"] == 2 and meta["holes_expert"]["max_valid"] == 0.9 and meta["default_steps"] == 2
    # a kept default_steps the new model cannot run is an error, not a silent clamp; the shipped pair is untouched
    js = st.with_suffix(".json")
    js.write_text(json.dumps({**meta, "default_steps": 99}))
    before = (st.read_bytes(), js.read_text())
    with pytest.raises(ValueError, match="kept from shipped.json"):
        export_run(tmp_path, "shipped", dest_dir=tmp_path / "weights")
    assert (st.read_bytes(), js.read_text()) == before
    js.write_text(json.dumps(meta))
    # a fine-tune of the stage-2 weights in another run: the export keeps the whole history
    ft = tmp_path / "ft"
    train(TrainConfig(out=str(ft), stage=2, iters=1, batch=2, patch=32, workers=0, val_every=1, warmup_iters=1,
                      init=str(tmp_path / "stage2"), p_synthetic=0.5, data_root="none"))
    meta = Upscaler.from_pretrained(export_run(ft, "ft", dest_dir=tmp_path / "weights"), device="cpu").config
    hist = meta["training"]["history"]
    assert [(h["stage"], h["iterations"]) for h in hist] == [(1, 4), (2, 2), (2, 1)]
    assert hist[-1]["recipe"]["p_synthetic"] == 0.5 and hist[-1]["recipe"]["init"] == str(tmp_path / "stage2")
    assert meta["training"]["stage1"]["iterations"] == 4
    assert plot_curves(tmp_path, tmp_path / "curves.png").stat().st_size > 1000


@pytest.mark.slow
def test_ddp_two_cpu_processes(tmp_path):
    code = (
        "from dsr_diff_ros.training.trainer import TrainConfig, train\n"
        "from dsr_diff_ros.model import ModelConfig\n"
        f"m = ModelConfig(**{TINY.to_dict()!r})\n"
        f"print(train(TrainConfig(out={str(tmp_path)!r}, iters=3, batch=2, patch=32, workers=0, val_every=3,"
        " data_root='none',"
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


def _real_pairs():
    from dsr_diff_ros.data.real import RealPair
    from dsr_diff_ros.data.synthetic import SceneGenerator

    gen = SceneGenerator(96, 128)
    out = []
    for k in range(3):
        sc = gen(k)
        out.append(RealPair(f"r{k}", sc.rgb, sc.depth, "rgbdd"))
    out.append(RealPair("m0", sc.rgb, (200 - 40 * sc.depth).clip(20, 255).astype("float32"), "middlebury"))
    return out


def test_training_mix_real_crops_and_degradations():
    """Batches are deterministic per index, crops come from the real pairs (Middlebury values turned into
    metres), bicubic samples keep clean colour, and every LR map is a plausible degraded copy of its HR."""
    real = _real_pairs()
    spec = BatchSpec(batch=8, patch=32, p_synthetic=0.0, bank_size=2)
    ds = TrainingBatches(spec, real, seed=1)
    a, b = ds[3], ds[3]
    assert all(torch.equal(a[k], b[k]) for k in ("rgb", "depth_hr", "depth_lr"))
    for i in range(6):
        bt = ds[i]
        hr, lr = bt["depth_hr"], bt["depth_lr"]
        assert hr.shape == (8, 1, 32, 32) and bt["rgb"].shape == (8, 3, 32, 32)
        assert 2 <= bt["scale"] <= 16 and lr.shape[-1] == max(1, round(32 / bt["scale"]))
        assert torch.isfinite(hr).all() and float(hr.min()) >= 0  # Middlebury's 0-255 became metres (k/value <= 250)
        v = lr > 0
        assert v.float().mean() > 0.5  # holes, but mostly valid
        for k in range(hr.shape[0]):  # per sample: a batch mixes RGB-D-D metres and Middlebury-made metres
            vk = v[k]
            if vk.any():
                lo, hi = float(hr[k][hr[k] > 0].min()), float(hr[k].max())
                assert float(lr[k][vk].min()) > 0.3 * lo and float(lr[k][vk].max()) < 2.0 * hi
    # a scene a little smaller than the crop is mirrored to its size (values and alignment kept), a much smaller
    # one is left out; scenes at least the crop's size are cropped as before
    small = [p for p in real if p.kind == "middlebury"][0]
    side = min(small.depth.shape)
    near = TrainingBatches(BatchSpec(batch=4, patch=side + 2, p_synthetic=0.0, p_middlebury=1.0, p_bicubic=1.0,
                                     p_noisy_bicubic=0.0, p_colour_bicubic=0.0, bank_size=2), [small], seed=4)
    assert len(near.mb) == 1 and len(TrainingBatches(BatchSpec(patch=2 * side, bank_size=2), [small]).mb) == 0
    rgb, d = near._crop(np.random.default_rng(0))
    assert rgb.shape == (side + 2, side + 2, 3) and d.shape == (side + 2, side + 2)
    assert set(np.unique(rgb)) <= set(np.unique(small.rgb))   # mirrored, not resampled (no zoom: H is now P)
    bt = near[0]
    assert bt["rgb"].shape == (4, 3, side + 2, side + 2) and torch.isfinite(bt["depth_hr"]).all()
    # clean bicubic only: no colour change
    clean = TrainingBatches(BatchSpec(batch=4, patch=32, p_synthetic=0.0, p_bicubic=1.0, p_noisy_bicubic=0.0,
                                      p_colour_bicubic=0.0), real, seed=2)[0]
    rgbs = {bytes((torch.from_numpy(p.rgb).float() / 255).numpy().tobytes()) for p in real}
    assert clean["rgb"].shape[0] == 4 and len(rgbs) >= 1


def test_noisy_bicubic_samples_with_z2_noise_are_noisier_far_away():
    """The z^2 share of the heavy-noise samples: noise relative to depth grows with depth (disparity noise)."""
    from dsr_diff_ros.data.degradations import bicubic_downsample

    spec = BatchSpec(batch=8, patch=64, p_synthetic=1.0, bank_size=8, p_bicubic=0.0, p_noisy_bicubic=1.0,
                     p_noise_z2=1.0, p_colour_bicubic=0.0)
    near, far = [], []
    for i in range(4):
        bt = TrainingBatches(spec, seed=3)[i]
        for hr, lr in zip(bt["depth_hr"][:, 0].numpy(), bt["depth_lr"][:, 0].numpy()):
            clean = bicubic_downsample(hr, bt["scale"])
            v = (clean > 0) & (lr > 0)
            rel = np.abs(lr - clean)[v] / clean[v]
            med = np.median(clean[v])
            near += list(rel[clean[v] < 0.8 * med])
            far += list(rel[clean[v] > 1.25 * med])
    assert len(near) > 50 and len(far) > 50
    assert np.median(far) > 1.5 * np.median(near)


def test_colour_degradation_changes_colour_only_and_shift_is_bounded():
    import numpy as np

    from dsr_diff_ros.data.colour import ColourModel, degrade_colour, random_colour

    rgb = _real_pairs()[0].rgb
    rng = np.random.default_rng(0)
    same = degrade_colour(rgb, ColourModel(), rng)
    assert np.array_equal(same, rgb)
    shifted = degrade_colour(rgb, ColourModel(shift_px=(3.0, 0.0)), rng)
    assert np.abs(shifted[:, 3:-1].astype(int) - rgb[:, :-4].astype(int)).mean() < 2  # moved right by 3 px
    for k in range(50):
        m = random_colour(np.random.default_rng(k), max_shift=4.0)
        assert max(abs(m.shift_px[0]), abs(m.shift_px[1])) <= 4.0 and 0 <= m.jpeg <= 95
        out = degrade_colour(rgb, m, np.random.default_rng(k))
        assert out.shape == rgb.shape and out.dtype == np.uint8


def test_sigterm_leaves_a_resumable_checkpoint(tmp_path):
    """A background job ignores SIGINT; SIGTERM must stop training with a checkpoint that the next call resumes."""
    import signal
    import time

    cmd = [sys.executable, "-m", "dsr_diff_ros.cli.train", "--out", str(tmp_path), "--stage", "1", "--iters", "100000",
           "--batch", "2", "--patch", "32", "--workers", "0", "--threads", "1", "--data-root", "none",
           "--dim", "16", "--val-every", "100000", "--ckpt-every", "100000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = tmp_path / "log_stage1.csv"
    deadline = time.time() + 120
    while time.time() < deadline and not (log.exists() and len(log.read_text().splitlines()) > 1):
        time.sleep(0.5)                     # wait for the first logged iterations (25 per row)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert "interrupted: saving a resumable checkpoint" in out, out[-2000:]
    done = train(TrainConfig(out=str(tmp_path), stage=1, iters=1, batch=2, patch=32, workers=0, data_root="none",
                             model=ModelConfig(dim=16)))
    state = __import__("json").loads((tmp_path / "state_stage1.json").read_text())
    assert state["iteration"] >= 25 and done["iteration"] == state["iteration"]  # resumed, nothing left to do


def test_stage2_oracle_batches_feed_the_decoder_ggn_prior():
    """--p-oracle: in such a batch the depth loss is the decoder's with GGN's prior; GRN still gets its z loss."""
    torch.manual_seed(0)
    m = DSRDiff(TINY)
    torch.nn.init.normal_(m.dsrn.head.weight, std=0.05)
    b = TrainingBatches(BatchSpec(batch=2, patch=32, p_x4=1.0, bank_size=4), seed=3)[0]
    loss_mod = StageLoss(m, 2)
    loss_mod.p_oracle = 1.0
    loss, logs = loss_mod(b["rgb"], b["depth_hr"], b["depth_lr"], 2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        p = m.prepare(b["depth_lr"], b["rgb"])
        from dsr_diff_ros.training.losses import masked_l1
        expect = masked_l1(m.run(b["depth_lr"], b["rgb"], z=m.guidance_gt(p, b["depth_hr"]), prepared=p).norm,
                           b["depth_hr"] / p.scale)
    assert abs(logs["l_depth"] - float(expect)) < 1e-6 and logs["l_z"] > 0
    loss.backward()
    assert m.grn.denoiser.net[0].weight.grad.abs().sum() > 0 and m.dsrn.head.weight.grad.abs().sum() > 0


def test_stage2_z_weight_scales_the_prior_loss_and_a_frozen_decoder_includes_the_refinement(tmp_path):
    """--z-weight W: loss = L1(depth) + W * L1(z, z_GGN); --dsrn-lr-scale 0 trains GRN alone (DSRN and the
    refinement keep their weights)."""
    from dsr_diff_ros.model.checkpoint import save_weights

    torch.manual_seed(0)
    m = DSRDiff(TINY)
    torch.nn.init.normal_(m.dsrn.head.weight, std=0.05)
    b = TrainingBatches(BatchSpec(batch=2, patch=32, p_x4=1.0, bank_size=4), seed=3)[0]
    loss_mod = StageLoss(m, 2)
    for w in (1.0, 0.1, 0.0):
        loss_mod.z_weight = w
        loss, logs = loss_mod(b["rgb"], b["depth_hr"], b["depth_lr"], 2, torch.Generator().manual_seed(0))
        assert logs["l_z"] > 0 and abs(loss.item() - (logs["l_depth"] + w * logs["l_z"])) < 1e-6
    init = DSRDiff(ModelConfig(**{**TINY.to_dict(), "refine_ch": 4}))
    with torch.no_grad():
        for prm in init.parameters():
            prm.add_(0.05 * torch.randn_like(prm))
    save_weights(init, tmp_path / "init")
    cfg = TrainConfig(out=str(tmp_path / "run"), stage=2, iters=3, batch=2, patch=32, workers=0, val_every=100,
                      data_root="none", warmup_iters=1, init=str(tmp_path / "init"), dsrn_lr_scale=0.0, z_weight=0.1)
    assert train(cfg)["done"]
    a = dict(init.named_parameters())
    b_ = dict(load_weights(tmp_path / "run" / "stage2")[0].named_parameters())
    assert all(torch.equal(a[n], b_[n]) for n in a if n.startswith(("dsrn.", "refine.", "ggn.")))
    assert not all(torch.equal(a[n], b_[n]) for n in a if n.startswith("grn."))


def test_rmse_depth_loss_is_the_mean_per_sample_rmse_over_valid_pixels_and_trains(tmp_path):
    from dsr_diff_ros.training.losses import masked_rmse
    from dsr_diff_ros.training.trainer import TrainConfigError

    gt = torch.tensor([[1.0, 2.0, 0.0, float("nan")], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]).view(3, 1, 2, 2)
    pred = torch.tensor([[2.0, 2.0, 9.0, 9.0], [1.0, 1.0, 1.0, 3.0], [5.0, 5.0, 5.0, 5.0]]).view(3, 1, 2, 2)
    # sample 0: errors (1, 0) over 2 valid pixels; sample 1: (0, 0, 0, 2) over 4; sample 2 has no ground truth
    expect = (np.sqrt(0.5) + np.sqrt(1.0)) / 2
    assert abs(masked_rmse(pred, gt).item() - expect) < 1e-5
    pred.requires_grad_(True)
    masked_rmse(pred, gt).backward()
    assert torch.isfinite(pred.grad).all() and pred.grad[2].abs().sum() == 0 and pred.grad[0, 0, 1, 0] == 0
    loss_mod = StageLoss(DSRDiff(TINY), 1)
    b = TrainingBatches(BatchSpec(batch=2, patch=32, p_x4=1.0, bank_size=4), seed=3)[0]
    l1 = loss_mod(b["rgb"], b["depth_hr"], b["depth_lr"], 1)[0]
    from dsr_diff_ros.training.losses import DEPTH_LOSSES
    loss_mod.depth_loss = DEPTH_LOSSES["rmse"]
    assert loss_mod(b["rgb"], b["depth_hr"], b["depth_lr"], 1)[0] > l1   # RMSE >= mean |error| per sample
    cfg = TrainConfig(out=str(tmp_path / "run"), stage=1, iters=2, batch=2, patch=32, workers=0, val_every=100,
                      data_root="none", warmup_iters=1, model=TINY, depth_loss="rmse")
    assert train(cfg)["done"]
    with pytest.raises(TrainConfigError, match="depth_loss"):
        train(TrainConfig(out=str(tmp_path / "bad"), iters=1, data_root="none", model=TINY, depth_loss="l2"))


def test_grow_starts_as_the_same_function_then_its_new_blocks_learn(tmp_path):
    from dsr_diff_ros.model.checkpoint import save_weights
    from dsr_diff_ros.training.trainer import grow

    torch.manual_seed(0)
    small = DSRDiff(TINY).eval()
    with torch.no_grad():   # trained-looking weights: DSRN's head is zero at initialisation
        for prm in small.parameters():
            prm.add_(0.05 * torch.randn_like(prm))
    big = grow(small, fuse_blocks=3, dfe_blocks=2, refine_ch=4).eval()
    assert big.cfg.fuse_blocks == 3 and big.cfg.refine_ch == 4 and len(big.dsrn.fuse.blocks) == 3
    lr, rgb = torch.rand(1, 1, 8, 8) + 0.5, torch.rand(1, 3, 32, 32)
    z = torch.randn(1, TINY.z_ch, 4, 4)
    with torch.no_grad():
        a, b = small.run(lr, rgb, z=z).depth, big.run(lr, rgb, z=z).depth
    assert torch.equal(a, b)
    bigger = grow(big, refine_feat=2).eval()     # then DSRN's features into the refinement
    with torch.no_grad():
        bigger.refine.body[-1].weight.normal_()
        big.refine.body[-1].weight.copy_(bigger.refine.body[-1].weight)
        assert torch.equal(big.run(lr, rgb, z=z).depth, bigger.run(lr, rgb, z=z).depth)
    # the new blocks are trainable: their (zero) outputs get gradients
    big.train()
    big.run(lr, rgb, z=z).norm.mean().backward()
    assert big.dsrn.fuse.blocks[2].ffn.out.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="cannot grow"):
        grow(small, dim=32)
    with pytest.raises(ValueError, match="cannot grow"):
        grow(small, fuse_blocks=0)
    with pytest.raises(ValueError, match="cannot grow"):
        grow(small, refine_feat=2)                # no refinement to feed
    # the command line says what is wrong instead of a traceback
    for bad in (["--grow", "foo=1"], ["--grow", "fuse_blocks=x"], ["--mix", "p_bogus=0.1"],
                ["--mix", "scale_range=8"], ["--mix", "p_x4=1:2"], ["--mix", "scale_range=9:4"],
                ["--mix", "scale_range=2:3:4"]):
        save_weights(small, tmp_path / "w")
        r = subprocess.run([sys.executable, "-m", "dsr_diff_ros.cli.train", "--stage", "2", "--init", str(tmp_path / "w"),
                            "--out", str(tmp_path / "r"), "--data-root", "none", "--iters", "1", "--workers", "0",
                            *bad],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and "Traceback" not in r.stderr and "error:" in r.stderr, r.stderr


def test_stage2_grow_trains_and_resumes_and_logs_every_validation_mode(tmp_path):
    from dsr_diff_ros.model.checkpoint import save_weights
    from dsr_diff_ros.training.trainer import VAL_KEYS

    save_weights(DSRDiff(TINY), tmp_path / "init")
    cfg = TrainConfig(out=str(tmp_path / "run"), stage=2, iters=2, batch=2, patch=32, workers=0, val_every=2,
                      data_root="none", warmup_iters=1, init=str(tmp_path / "init"), grow={"fuse_blocks": 2})
    assert train(cfg)["done"]
    # an old log (without the x8/x16/noisy columns) is upgraded when the run resumes
    log = tmp_path / "run" / "log_stage2.csv"
    rows = list(csv.reader(open(log)))
    old = [c for c in rows[0] if c not in VAL_KEYS[3:]]
    with open(log, "w", newline="") as f:
        csv.writer(f).writerows([old] + [[dict(zip(rows[0], r))[c] for c in old] for r in rows[1:]])
    assert train(TrainConfig(**{**cfg.__dict__, "iters": 4}))["done"]
    m, _ = load_weights(tmp_path / "run" / "stage2")
    assert m.cfg.fuse_blocks == 2
    rows = list(csv.DictReader(open(log)))
    assert set(VAL_KEYS) <= set(rows[0]) and rows[-1]["iteration"] == "4"
    assert all(float(rows[-1][k]) > 0 for k in VAL_KEYS)


def test_a_scale_band_mix_draws_only_ratios_inside_the_band():
    """``--mix scale_range=LO:HI`` (a scale-band expert): every ratio, sensor ratios included, lies in the band;
    a band with no sensor ratio falls back to the continuous range."""
    from dsr_diff_ros.training.dataset import SENSOR_RATIOS
    from dsr_diff_ros.training.trainer import mix_overrides

    rng = np.random.default_rng(0)
    for band, p_x4 in (((2.0, 5.66), 0.3), ((5.5, 17.0), 0.0)):
        ds = TrainingBatches(BatchSpec(**mix_overrides({"scale_range": band, "p_x4": p_x4, "p_sensor_ratio": 0.5})))
        drawn = [ds._scale(rng) for _ in range(400)]
        assert all(band[0] <= q <= band[1] for q in drawn)
        inside = [q for q in SENSOR_RATIOS if band[0] <= q <= band[1]]
        assert bool(inside) == any(q in inside for q in drawn)
        assert len(set(drawn)) > 50         # the continuous part (>= 20 %) is still there



def test_filled_sensor_samples_have_no_holes_and_keep_their_values():
    """``p_fill``: sensor samples with their holes filled from the nearest valid pixel (valid pixels unchanged)."""
    base = dict(batch=4, patch=64, p_bicubic=0.0, p_noisy_bicubic=0.0, bank_size=4, p_synthetic=1.0)
    holes = TrainingBatches(BatchSpec(**base), seed=5)[0]["depth_lr"]
    filled = TrainingBatches(BatchSpec(**base, p_fill=1.0), seed=5)[0]["depth_lr"]
    assert (holes <= 0).any() and (filled > 0).all()
    h, f = holes[0], filled[0]                 # the first sample is drawn alike (the fill's draw comes after it)
    assert (h <= 0).any() and torch.equal(f[h > 0], h[h > 0])


def test_pasted_texture_changes_one_rectangle_of_the_colour_and_nothing_else():
    """``paste_texture``: a rectangle of 25-75 % of each side changes (from another image or a pattern), the rest
    of the colour is untouched; with ``p_texture`` the batches' depth is exactly that of the same batch without."""
    from dsr_diff_ros.data.colour import paste_texture
    rgb = np.full((64, 80, 3), 128, np.uint8)
    src = np.random.default_rng(1).integers(0, 255, (96, 96, 3), dtype=np.uint8)
    for k in range(40):
        out = paste_texture(rgb, src, np.random.default_rng(k))
        ys, xs = np.nonzero((out != rgb).any(-1))
        assert out.dtype == np.uint8 and out.shape == rgb.shape and ys.size
        h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        assert 16 <= h <= 48 and 20 <= w <= 60, (h, w)       # one rectangle of 25-75 % of each side
        assert (out != rgb).any(-1).sum() > 0.5 * h * w    # a texture, not a few changed pixels
    base = dict(batch=4, patch=64, bank_size=4, p_synthetic=1.0)
    plain = TrainingBatches(BatchSpec(**base), seed=3)[0]
    tex = TrainingBatches(BatchSpec(**base, p_texture=1.0), seed=3)[0]
    assert not torch.equal(plain["rgb"], tex["rgb"])
    for k in ("depth_hr", "depth_lr"):                  # the first sample is drawn alike; only its colour differs
        assert torch.equal(plain[k][0], tex[k][0])


def test_dihedral_samples_are_the_other_grid_symmetries_of_the_same_crop():
    """``p_dihedral``: a sample is also turned upside down, transposed or both (the copies the self-ensemble feeds
    the network); depth and colour alike."""
    base = dict(batch=2, patch=32, bank_size=4, p_synthetic=1.0)
    plain = TrainingBatches(BatchSpec(**base), seed=2)
    dihedral = TrainingBatches(BatchSpec(**base, p_dihedral=1.0), seed=2)
    kinds = set()
    for k in range(30):
        r0, d0 = plain._crop(np.random.default_rng(k))
        r1, d1 = dihedral._crop(np.random.default_rng(k))
        views = {"upside down": lambda a: a[::-1], "transposed": lambda a: a.swapaxes(0, 1),
                 "both": lambda a: a[::-1].swapaxes(0, 1)}
        hit = [n for n, f in views.items() if np.array_equal(f(r0), r1) and np.array_equal(f(d0), d1)]
        assert hit and not np.array_equal(d0, d1), k
        kinds.update(hit)
    assert kinds == set(views)


def test_scene_cache_gives_the_same_batches_and_serves_later_runs(tmp_path, monkeypatch):
    """The procedural bank is generated lazily; with a cache folder a second run reads the scenes back instead
    of generating them, batches are identical with and without the cache, and a damaged file is regenerated."""
    from dsr_diff_ros.training import dataset

    spec = BatchSpec(batch=2, patch=32, p_synthetic=1.0, bank_size=3)
    plain = [TrainingBatches(spec, seed=5)[i] for i in range(3)]
    cached = [TrainingBatches(spec, seed=5, scene_cache=tmp_path)[i] for i in range(3)]
    files = sorted(tmp_path.glob("scene_*.npz"))
    assert 1 <= len(files) <= 3 and not list(tmp_path.glob("*.tmp*"))
    for a, b in zip(plain, cached):
        for k in ("rgb", "depth_hr", "depth_lr"):
            assert torch.equal(a[k], b[k])

    files[0].write_bytes(b"not an npz")           # damaged: regenerated and rewritten, not a crash
    real_gen, calls = dataset.SceneGenerator(32, 32), []

    class CountingGenerator:
        def __init__(self, *size):
            pass

        def __call__(self, seed):
            calls.append(seed)
            return real_gen(seed)

    monkeypatch.setattr(dataset, "SceneGenerator", CountingGenerator)
    again = [TrainingBatches(spec, seed=5, scene_cache=tmp_path)[i] for i in range(3)]
    assert len(calls) == 1                        # only the damaged scene
    for a, b in zip(plain, again):
        assert torch.equal(a["depth_hr"], b["depth_hr"])
    with np.load(files[0], allow_pickle=False) as z:
        assert z["depth"].shape == (32, 32)


def test_training_mix_fattens_target_and_input_alike():
    """p_fatten changes the structured-light samples' target (nearer values only, at edges) and leaves the
    stream of every other draw as it was when 0."""
    base = dict(batch=1, patch=64, p_synthetic=1.0, bank_size=4, p_bicubic=0.0, p_noisy_bicubic=0.0)
    plain, fat = TrainingBatches(BatchSpec(**base), seed=1), TrainingBatches(BatchSpec(**base, p_fatten=1.0), seed=1)
    changed = 0
    for i in range(24):                              # one sample per index: the same crop in both
        a, b = plain[i]["depth_hr"], fat[i]["depth_hr"]
        diff = a != b
        if diff.any():
            changed += 1
            assert (b[diff] < a[diff]).all() and diff.float().mean() < 0.2   # nearer, at edges only
    assert changed >= 5                              # the structured-light draws (10 of these 24)
    same = TrainingBatches(BatchSpec(**base, p_fatten=0.0), seed=1)
    assert all(torch.equal(same[i]["depth_lr"], plain[i]["depth_lr"]) for i in range(4))
    from dsr_diff_ros.training.trainer import TrainConfigError, mix_overrides
    assert mix_overrides({"fatten_px": (2.0, 2.0, 3.0)})["fatten_px"] == (2, 2, 3)
    assert mix_overrides({"fatten_px": 2.0})["fatten_px"] == (2,)
    for bad in (1.5, (1.0, -1.0)):
        with pytest.raises(TrainConfigError, match="fatten_px"):
            mix_overrides({"fatten_px": bad})
    ds = TrainingBatches(BatchSpec(**base, **mix_overrides({"p_fatten": 1.0, "fatten_px": 3.0})), seed=1)
    assert ds.spec.fatten_px == (3,) and ds[0]["depth_hr"].shape == (1, 1, 64, 64)


def test_hr_holes_empty_part_of_the_input_and_keep_the_target_dense():
    """p_hr_holes: Kinect-class regions vanish from what the protocol sees (the bicubic LR loses far more than
    the holes themselves, its support dilating them), never below a quarter of the LR, and the target stays
    the dense depth, so the model learns to fill them."""
    base = dict(batch=8, patch=128, p_synthetic=1.0, bank_size=4, p_bicubic=1.0, p_noisy_bicubic=0.0)
    plain = TrainingBatches(BatchSpec(**base), seed=2)[0]
    holey = TrainingBatches(BatchSpec(**base, p_hr_holes=1.0), seed=2)[0]
    assert (plain["depth_lr"] > 0).all() and (holey["depth_hr"] > 0).all()
    valid = (holey["depth_lr"] > 0).float().flatten(1).mean(1)
    assert valid.min() >= 0.25 and valid.mean() < 0.9


def test_hr_holes_sparse_keeps_the_holes_in_the_target_only_for_that_share():
    """p_hr_holes_sparse: the target of those samples has exactly the holes the protocol saw (the loss, masked to
    valid ground truth, then scores what a benchmark with holey ground truth scores); 0 keeps every target dense
    and draws nothing (earlier recipes replay the same batches)."""
    from dsr_diff_ros.training.trainer import mix_overrides

    base = dict(batch=8, patch=128, p_synthetic=1.0, bank_size=4, p_bicubic=1.0, p_noisy_bicubic=0.0,
                p_hr_holes=1.0)
    dense = TrainingBatches(BatchSpec(**base), seed=2)[0]
    zero = TrainingBatches(BatchSpec(**base, p_hr_holes_sparse=0.0), seed=2)[0]
    torch.testing.assert_close(dense["depth_lr"], zero["depth_lr"], rtol=0, atol=0)
    sparse = TrainingBatches(BatchSpec(**base, p_hr_holes_sparse=1.0), seed=2)[0]
    gone = (sparse["depth_hr"] == 0).flatten(1).float().mean(1)
    assert (gone > 0.01).all() and gone.max() < 0.75
    lr_hr = torch.nn.functional.interpolate((sparse["depth_lr"] > 0).float(), size=sparse["depth_hr"].shape[-2:])
    assert ((sparse["depth_hr"] == 0) & (lr_hr > 0)).float().mean() < 0.02   # target holes lie in the LR holes
    assert mix_overrides({"p_hr_holes_sparse": 0.5}) == {"p_hr_holes_sparse": 0.5}


def test_fill_below_fills_the_sparse_inputs_as_the_upscaler_does():
    """fill_below: an LR input with fewer valid pixels than that share arrives nearest-filled (the run-time
    ``hole_fill``); inputs with more keep their holes; the target is untouched."""
    base = dict(batch=8, patch=128, p_synthetic=1.0, bank_size=4, p_bicubic=1.0, p_noisy_bicubic=0.0,
                p_hr_holes=1.0, p_x4=0.0, scale_range=(8.0, 8.0))
    holey = TrainingBatches(BatchSpec(**base), seed=3)[0]
    filled = TrainingBatches(BatchSpec(**base, fill_below=0.5), seed=3)[0]
    before = (holey["depth_lr"] > 0).flatten(1).float().mean(1)
    after = (filled["depth_lr"] > 0).flatten(1).float().mean(1)
    assert (before < 0.5).any() and (before >= 0.5).any()
    assert (after[before < 0.5] == 1).all() and torch.equal(after[before >= 0.5], before[before >= 0.5])
    torch.testing.assert_close(filled["depth_hr"], holey["depth_hr"], rtol=0, atol=0)


def test_kinect_holes_cover_what_a_kinect_loses():
    from dsr_diff_ros.data.degradations import kinect_holes
    from dsr_diff_ros.data.synthetic import SceneGenerator
    s = SceneGenerator(480, 640)(7)
    shares = [kinect_holes(s.depth, s.rgb, np.random.default_rng(k)).mean() for k in range(6)]
    assert 0.03 < np.mean(shares) < 0.45 and all(0 < x < 0.7 for x in shares)
    assert not kinect_holes(s.depth, s.rgb, np.random.default_rng(0), n_blobs=(0, 1)).all()


def test_kernel_samples_downsample_with_another_kernel_and_keep_the_stream_when_off():
    """``p_kernel``: bicubic-protocol samples downsampled with one of ``KERNELS`` instead (the target unchanged);
    at 0 no draw is made, so older recipes replay the same batches."""
    base = dict(batch=4, patch=64, p_bicubic=1.0, p_noisy_bicubic=0.0, p_colour_bicubic=0.0, bank_size=4,
                p_synthetic=1.0, p_x4=1.0)
    plain = TrainingBatches(BatchSpec(**base), seed=4)[0]
    again = TrainingBatches(BatchSpec(**base, p_kernel=0.0), seed=4)[0]
    other = TrainingBatches(BatchSpec(**base, p_kernel=1.0), seed=4)[0]
    assert all(torch.equal(v, again[k]) for k, v in plain.items() if isinstance(v, torch.Tensor))
    assert torch.equal(plain["depth_hr"][0], other["depth_hr"][0]) and torch.equal(plain["rgb"][0], other["rgb"][0])
    assert not torch.equal(plain["depth_lr"][0], other["depth_lr"][0])
