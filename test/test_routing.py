"""The routing entries of a weights JSON (``dsr_diff_ros.routing``): parsed as declared, refused with the entry named."""
import json

import pytest

from dsr_diff_ros.inference import WEIGHTS_DIR
from dsr_diff_ros.model.checkpoint import WeightsError
from dsr_diff_ros.routing import HoleFill, Routing, parse_routing


def test_the_shipped_json_parses_to_its_experts_and_thresholds():
    cfg = json.loads((WEIGHTS_DIR / "dsr_diff_default.json").read_text())
    r = parse_routing(cfg, "dsr_diff_default.json")
    assert r.clean.weights == cfg["clean_expert"]["weights"] and r.clean.max_sigma == cfg["clean_expert"]["max_sigma"]
    assert [(b.weights, b.max_ratio) for b in r.clean.bands] == [
        (b["weights"], b["max_ratio"]) for b in cfg["clean_expert"]["bands"]]
    assert r.holes.max_ratio == cfg["holes_expert"].get("max_ratio", float("inf")) > 1
    assert r.fill == HoleFill(cfg["hole_fill"]["max_valid"], cfg["hole_fill"].get("hedge_max_valid", 0.0))
    assert r.sparse.min_ratio == cfg["sparse_expert"]["min_ratio"]
    for b in r.clean.bands:   # every expert it names ships beside it
        assert (WEIGHTS_DIR / f"{b.weights}.safetensors").exists()


def test_absent_or_empty_entries_keep_the_defaults():
    assert parse_routing({}, "x.json") == Routing()
    assert parse_routing({"clean_expert": None, "holes_expert": {}, "hole_fill": {}}, "x.json") == Routing()
    r = parse_routing({"holes_expert": {"weights": "h", "max_valid": 0.9}}, "x.json")
    assert r.holes.name == "sensor_holes" and r.holes.max_ratio == float("inf") and r.clean is None


@pytest.mark.parametrize("key,bad", [
    ("clean_expert", {"weights": "c"}), ("clean_expert", "c"),
    ("clean_expert", {"weights": "c", "max_sigma": 0.01, "bands": [{"weights": "b", "max_ratio": 1.0}]}),
    ("holes_expert", {"weights": "h", "max_valid": "x"}), ("holes_expert", {"weights": "h", "max_valid": 0.9,
                                                                             "max_ratio": 0.5}),
    ("hole_fill", {"max_valid": 1.5}), ("hole_fill", {"max_valid": 0.5, "hedge_max_valid": -1}),
    ("sparse_expert", {"weights": "s", "max_valid": 2.0}), ("sparse_expert", ["s"]),
])
def test_a_bad_entry_is_refused_naming_the_file_and_the_entry(key, bad):
    with pytest.raises(WeightsError, match=rf"w\.json: {key} must be"):
        parse_routing({key: bad}, "w.json")
