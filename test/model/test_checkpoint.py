"""Weights files: round trip, SHA-256 integrity, and clear errors for truncated, corrupt, foreign or mismatched
files."""
import hashlib
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


def test_hash_recorded_and_one_flipped_byte_names_the_file(tmp_path):
    save_weights(DSRDiff(CFG), tmp_path / "w", {"safetensors_sha256": "stale value from an earlier file"})
    st, js = tmp_path / "w.safetensors", tmp_path / "w.json"
    assert json.loads(js.read_text())["safetensors_sha256"] == hashlib.sha256(st.read_bytes()).hexdigest()
    load_weights(st)
    data = bytearray(st.read_bytes())
    data[len(data) - 100] ^= 0x01                    # one bit of one tensor value: still a valid safetensors file
    st.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"w\.safetensors: damaged weights file: SHA-256 .* recorded in w\.json"):
        load_weights(st)


def test_old_json_without_hash_still_loads(tmp_path):
    m = DSRDiff(CFG)
    save_weights(m, tmp_path / "w")
    js = tmp_path / "w.json"
    cfg = json.loads(js.read_text())
    del cfg["safetensors_sha256"]
    js.write_text(json.dumps(cfg))
    m2, _ = load_weights(tmp_path / "w")
    assert all(torch.equal(v, m2.state_dict()[k]) for k, v in m.state_dict().items())


def test_shipped_weights_load():
    """The shipped files load whether or not their JSON has the hash yet (checked when present)."""
    from dsr_diff_ros.inference import resolve_weights

    try:
        st = resolve_weights(None)
    except Exception as e:  # no shipped weights in this checkout
        pytest.skip(f"no shipped weights: {e}")
    load_weights(st)


def test_errors(tmp_path):
    save_weights(DSRDiff(CFG), tmp_path / "w")
    st, js = tmp_path / "w.safetensors", tmp_path / "w.json"
    data = st.read_bytes()
    st.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="w.safetensors: damaged weights file"):   # hash recorded: caught first
        load_weights(st)
    cfg = json.loads(js.read_text())
    del cfg["safetensors_sha256"]                    # an old JSON: safetensors itself must still catch it
    js.write_text(json.dumps(cfg))
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
    with pytest.raises(WeightsError, match="a.safetensors: damaged weights file"):   # not the file a.json names
        load_weights(tmp_path / "a")
    cfg = json.loads((tmp_path / "a.json").read_text())
    del cfg["safetensors_sha256"]
    (tmp_path / "a.json").write_text(json.dumps(cfg))
    with pytest.raises(WeightsError, match="shape mismatch"):
        load_weights(tmp_path / "a")
