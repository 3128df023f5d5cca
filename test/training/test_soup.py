"""Weight averaging of fine-tuned runs (training/soup.py): the mean of the tensors, shippable, bad inputs refused."""
import pytest
import torch

from dsr_diff_ros.model import DSRDiff, ModelConfig
from dsr_diff_ros.model.checkpoint import WeightsError, load_weights, save_weights
from dsr_diff_ros.training.soup import average_weights, main

CFG = ModelConfig(dim=8, heads=1, dfe_blocks=1, cfe_blocks=1, fuse_blocks=1, z_ch=4, z_embed=8, ggn_channels=8,
                  grn_channels=8)


def _saved(tmp_path, name, seed, cfg=CFG, iterations=10):
    torch.manual_seed(seed)
    m = DSRDiff(cfg)
    with torch.no_grad():
        for p in m.parameters():
            p.normal_()
    save_weights(m, tmp_path / name / "stage2", meta={"training": {"stage": 2, "iterations": iterations,
                                                                  "hours": 0.5}})
    return m, tmp_path / name / "stage2"


def test_the_soup_is_the_mean_of_the_inputs_and_loads_as_weights(tmp_path):
    a, pa = _saved(tmp_path, "a", 0)
    b, pb = _saved(tmp_path, "b", 1, iterations=30)
    out = average_weights([pa, pb], tmp_path / "soup")
    assert out == tmp_path / "soup" / "stage2.safetensors"
    m, cfg = load_weights(tmp_path / "soup" / "stage2")   # hash, names and shapes checked
    sa, sb = a.state_dict(), b.state_dict()
    for k, v in m.state_dict().items():
        if v.is_floating_point():
            torch.testing.assert_close(v, (sa[k] + sb[k]) / 2)
    assert not torch.equal(m.state_dict()[next(iter(sa))], sa[next(iter(sa))])
    assert cfg["training"]["iterations"] == 40 and cfg["training"]["hours"] == 1.0
    assert [r["weights"] for r in cfg["training"]["soup"]] == [str(pa), str(pb)]


def test_a_soup_of_different_architectures_or_of_one_input_is_refused(tmp_path):
    _, pa = _saved(tmp_path, "a", 0)
    _, pc = _saved(tmp_path, "c", 2, cfg=ModelConfig(**{**CFG.to_dict(), "dim": 16}))
    with pytest.raises(WeightsError, match="architecture differs"):
        average_weights([pa, pc], tmp_path / "soup")
    with pytest.raises(WeightsError, match="at least two"):
        average_weights([pa], tmp_path / "soup")
    assert main([str(pa), str(pc), "--out", str(tmp_path / "soup")]) == 2
    assert not (tmp_path / "soup" / "stage2.safetensors").exists()
