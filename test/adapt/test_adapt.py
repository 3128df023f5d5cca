"""The adaptation loop end to end on a real bag with a tiny model (mechanics: output files, loading, hold-out gate,
resume, Ctrl-C). Accuracy is measured by bench/bench_adapt.py."""
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from dsr_diff_ros import Upscaler
from dsr_diff_ros.adapt import AdaptConfig, adapt
from dsr_diff_ros.adapt import loop as adapt_loop
from dsr_diff_ros.adapt.loop import split_frames, trainable_names
from dsr_diff_ros.adapt.simulate import write_bag
from dsr_diff_ros.adapt.state import state_paths
from dsr_diff_ros.model.checkpoint import load_weights, sha256_file

# every loss term on (the defaults use the cross-scale term alone; the others are options)
FAST = dict(budget_s=60, max_iters=4, eval_every=2, batch=2, crop=24, real_batch=1, real_crop=12, threads=1,
            w_consistency=0.1, w_edge=0.05, w_reg=0.1, w_anchor=1.0, min_holdout_frames=1)


@pytest.fixture(scope="module")
def bag(sim_frames, scenes, tmp_path_factory):
    rgb, lr = sim_frames
    return write_bag(tmp_path_factory.mktemp("rec") / "rec", rgb[:8], lr[:8], scenes[1][:8])["path"]


def _cfg(base, **kw):
    return AdaptConfig(base=str(base), **{**FAST, **kw})


def test_adapt_writes_loadable_weights_with_profile(bag, tiny_base, tmp_path):
    out = tmp_path / "my_sensor"
    res = adapt(bag, out, _cfg(tiny_base, min_gain=-1.0), progress=False)   # keep whatever it learned
    assert res.adapted and res.iterations == 4
    meta = json.loads((tmp_path / "my_sensor.json").read_text())
    a = meta["adaptation"]
    assert a["base"]["safetensors_sha256"] == sha256_file(tiny_base.with_suffix(".safetensors"))
    assert a["profile"]["lr_size"] == [44, 33] and a["profile"]["rgb_size"] == [160, 120]
    assert a["frames"]["total"] == 8 and a["frames"]["train"] + a["frames"]["holdout"] == 8
    assert a["recording"]["rgb_topic"] == "/camera/camera/color/image_raw"
    assert a["curves"]["holdout_iteration"] == [0, 2, 4] and len(a["curves"]["holdout_loss"]) == 3
    assert set(a["time_s"]) >= {"read", "profile", "adapt", "total"} and a["peak_rss_mb"] > 0
    assert meta["default_steps"] == 2   # the base JSON's run-time keys are carried over
    assert set(a["holdout"]["base"]) == {"cross", "consistency", "edge", "loss"}
    up = Upscaler.from_pretrained(str(out), device="cpu")       # the node and the replay load it this way too
    assert up.model_id.startswith("my_sensor@")
    d = np.full((33, 44), 2.0, np.float32)
    assert up.upscale(d, np.zeros((120, 160, 3), np.uint8)).shape == (120, 160)
    new, base = load_file(str(out.with_suffix(".safetensors"))), load_file(str(tiny_base.with_suffix(".safetensors")))
    changed = [k for k in base if not torch.equal(new[k], base[k])]
    assert changed and all(k.startswith("dsrn.") for k in changed)   # scope "dsrn": GGN/GRN untouched


def test_no_improvement_keeps_the_base_weights(bag, tiny_base, tmp_path):
    out = tmp_path / "kept"
    res = adapt(bag, out, _cfg(tiny_base, min_gain=1.0), progress=False)   # a 100 % drop is impossible
    assert not res.adapted and "base weights are kept" in res.reason
    new, base = load_file(str(out.with_suffix(".safetensors"))), load_file(str(tiny_base.with_suffix(".safetensors")))
    assert all(torch.equal(new[k], base[k]) for k in base)
    assert json.loads(out.with_suffix(".json").read_text())["adaptation"]["adapted"] is False


def test_too_few_held_out_frames_keeps_the_base_weights(bag, tiny_base, tmp_path):
    logs = []
    res = adapt(bag, tmp_path / "few", _cfg(tiny_base, min_holdout_frames=3, min_gain=-1.0), progress=False,
                log=logs.append)   # 8 frames: 2 held out
    assert not res.adapted and res.iterations == 0 and "not verifiable" in res.reason
    assert any("could not be verified" in m for m in logs)


def test_resume_continues_where_it_stopped(bag, tiny_base, tmp_path):
    out = tmp_path / "res"
    adapt(bag, out, _cfg(tiny_base, max_iters=2), progress=False)
    assert all(p.exists() for p in state_paths(out))
    logs = []
    res = adapt(bag, out, _cfg(tiny_base, max_iters=4), progress=False, log=logs.append)
    assert res.iterations == 4 and any("resuming at iteration 2" in m for m in logs)
    res = adapt(bag, out, _cfg(tiny_base, max_iters=4), progress=False, resume=False)
    assert res.iterations == 4


def test_ctrl_c_keeps_the_best_weights(bag, tiny_base, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = adapt_loop.cross_scale_batch

    def interrupting(*a, **k):
        calls["n"] += 1
        if calls["n"] == 4 + 3:   # 4 held-out batches, then the 3rd training step
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(adapt_loop, "cross_scale_batch", interrupting)
    out = tmp_path / "ctrlc"
    res = adapt(bag, out, _cfg(tiny_base, max_iters=10, min_gain=-1.0), progress=False, log=lambda *a: None)
    assert res.interrupted and res.iterations == 2
    load_weights(out)   # written and valid
    assert json.loads(out.with_suffix(".json").read_text())["adaptation"]["interrupted"] is True


def test_split_and_scopes(tiny_base):
    tr, ho = split_frames(10, 0.2)
    assert ho == [2, 7] and len(tr) == 8 and not set(tr) & set(ho)
    assert split_frames(2, 0.2)[1] == [1]
    m, _ = load_weights(tiny_base)
    light, dsrn, every = (trainable_names(m, s) for s in ("light", "dsrn", "all"))
    assert set(light) < set(dsrn) < set(every) and all(n.startswith("dsrn.") for n in dsrn)
    assert any("head" in n for n in light) and not any("cfe.embed" in n for n in light)
    with pytest.raises(ValueError):
        trainable_names(m, "everything")


def test_node_and_replay_accept_the_adapted_weights(bag, tiny_base, tmp_path):
    from dsr_diff_ros.cli import replay
    from dsr_diff_ros.replay.models import load_model

    out = tmp_path / "my_sensor"
    adapt(bag, out, _cfg(tiny_base, max_iters=2, min_gain=-1.0), progress=False, log=lambda *a: None)
    assert load_model("dsr_diff", str(out), "cpu").model_id.startswith("my_sensor@")     # replay --weights
    rc = replay.main([str(bag), "-o", str(tmp_path / "out_bag"), "--weights", str(out), "--device", "cpu",
                      "--report", "none", "--no-progress", "--baselines", "none"])
    assert rc == 0
    pytest.importorskip("rclpy")
    from dsr_diff_ros.ros.node import load_upscaler                                      # node weights:=

    assert load_upscaler(str(out), "cpu").model_id.startswith("my_sensor@")
