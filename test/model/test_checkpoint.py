"""Weights files: round trip, and clear errors for truncated, corrupt, foreign or mismatched files."""
import json

import pytest
import torch

from dsr_diff_ros.model import DSRDiff, ModelConfig
from dsr_diff_ros.model.checkpoint import WeightsError, load_weights, save_weights

CFG = ModelConfig(dim=8, heads=1, dfe_blocks=1, cfe_blocks=1, fuse_blocks=1, z_ch=4, z_embed=8, ggn_channels=8, grn_channels=8)


def test_round_trip(tmp_path):
    torch.manual_seed(1)
    m = DSRDiff(CFG)
    save_weights(m, tmp_path / "w", {"note": "x"})
    m2, cfg = load_weights(tmp_path / "w.safetensors")
    assert cfg["note"] == "x" and m2.cfg == CFG
    for k, v in m.state_dict().items():
        assert torch.equal(v, m2.state_dict()[k])


def test_errors(tmp_path):
    save_weights(DSRDiff(CFG), tmp_path / "w")
    st, js = tmp_path / "w.safetensors", tmp_path / "w.json"
    data = st.read_bytes()
    st.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="corrupt or truncated"):
        load_weights(st)
    st.write_bytes(b"\x00" * 100)
    with pytest.raises(WeightsError, match="corrupt or truncated"):
        load_weights(st)
    js.write_text(json.dumps({"some": "other model"}))
    with pytest.raises(WeightsError, match="not a dsr_diff_ros weights config"):
        load_weights(st)
    js.write_text("{not json")
    with pytest.raises(WeightsError, match="not valid JSON"):
        load_weights(st)
    with pytest.raises(WeightsError, match="not found"):
        load_weights(tmp_path / "missing")
    # tensors from a different architecture
    save_weights(DSRDiff(CFG), tmp_path / "a")
    other = ModelConfig(**{**CFG.to_dict(), "dim": 16})
    save_weights(DSRDiff(other), tmp_path / "b")
    (tmp_path / "b.safetensors").replace(tmp_path / "a.safetensors")
    with pytest.raises(WeightsError, match="shape mismatch"):
        load_weights(tmp_path / "a")
