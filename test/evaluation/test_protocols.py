"""Protocol down-sampling, the run loop, reports, bad frames, the NYU reader and the CLI."""
import json

import cv2
import numpy as np
import pytest
from PIL import Image

from dsr_diff_ros.data.folder import DatasetError, RGBDFolder
from dsr_diff_ros.data.nyu import NYUv2, split_indices
from dsr_diff_ros.evaluation.datasets import PairFolder, discover_sequences
from dsr_diff_ros.evaluation.protocols import build_methods, evaluate, get_protocol, make_lr
from dsr_diff_ros.evaluation.report import write_report
from dsr_diff_ros.evaluation.sweeps import run_sweeps


def test_bicubic_protocol_matches_pil():
    rng = np.random.default_rng(1)
    hr = (1 + rng.random((48, 64))).astype(np.float32)
    for s in (4, 8):
        ref = np.asarray(Image.fromarray(hr, mode="F").resize((64 // s, 48 // s), Image.BICUBIC))
        np.testing.assert_allclose(make_lr(hr, s, "bicubic"), ref, rtol=1e-6)


def test_sensor_lr_is_seeded():
    hr = np.full((48, 64), 2.0, np.float32)
    a, b = make_lr(hr, 4, "sensor", 7), make_lr(hr, 4, "sensor", 7)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (12, 16)


def test_protocol_table():
    nyu = get_protocol("nyu")
    assert (nyu.crop, nyu.unit, nyu.modes) == (6, "cm", ("bicubic",))
    assert get_protocol("middlebury").unit == "255"
    assert get_protocol("sensor", crop=3).crop == 3
    with pytest.raises(KeyError):
        get_protocol("kitti")


def test_evaluate_and_report(seq, tmp_path, fake_up):
    notes = []
    methods = build_methods(["nearest", "bicubic", "guided", "ours", "oracle"], fake_up, notes=notes)
    assert notes == [] and list(methods) == ["nearest", "bicubic", "guided", "ours", "oracle"]
    res = evaluate([("seq", RGBDFolder(seq))], methods, scales=(2, 4), protocol="sensor", progress=False)
    assert len(res.rows) == 3 * 2 * 2 * 5 and not res.errors
    summ = {(r["mode"], r["scale"], r["method"]): r for r in res.summary()}
    assert summ[("sensor", 4, "oracle")]["rmse"] == pytest.approx(0, abs=1e-3)
    assert summ[("bicubic", 2, "guided")]["coverage"] == 1.0
    files = write_report(res, tmp_path / "rep")
    md = files["md"].read_text()
    for m in methods:
        assert f"| {m} |" in md
    assert "| sensor | x4 | guided |" in md and "| bicubic | x2 | nearest |" in md
    js = json.loads(files["json"].read_text())
    assert len(js["rows"]) == len(res.rows) and len(js["summary"]) == 2 * 2 * 5
    assert files["figures"] and all(p.stat().st_size > 0 for p in files["figures"])


def test_ours_skipped_without_upscaler():
    notes = []
    methods = build_methods(["bicubic", "ours", "oracle"], None, notes=notes)
    assert list(methods) == ["bicubic"] and len(notes) == 2 and "ours skipped" in notes[0]


def test_bad_frames_reported_and_skipped(seq, tmp_path):
    (seq / "000_depth.png").unlink()                                           # missing file
    cv2.imwrite(str(seq / "001_depth.png"), np.full((10, 10), 1000, np.uint16))  # size mismatch
    cv2.imwrite(str(seq / "003_color.png"), np.zeros((48, 64, 3), np.uint8))
    cv2.imwrite(str(seq / "003_depth.png"), np.zeros((48, 64), np.uint16))     # all invalid
    res = evaluate([("seq", RGBDFolder(seq))], build_methods(["bilinear"]), scales=(4,), modes=("bicubic",),
                   progress=False)
    assert {r["frame"] for r in res.rows} == {"002"}
    msgs = dict(res.errors)
    assert "000_depth.png" in msgs["seq/000"] and "missing" in msgs["seq/000"]
    assert "differs" in msgs["seq/001"] and "no valid pixel" in msgs["seq/003"]


def test_failing_method_does_not_stop_run(seq):
    def boom(lr, rgb, gt=None):
        raise RuntimeError("kaput")
    res = evaluate([("seq", RGBDFolder(seq))], {"boom": boom, **build_methods(["nearest"])}, scales=(4,),
                   modes=("bicubic",), progress=False)
    assert len(res.rows) == 3 and len(res.errors) == 3 and "kaput" in res.errors[0][1]


def test_discover_sequences(seq, tmp_path):
    (tmp_path / "junk").mkdir()
    seqs, problems = discover_sequences(tmp_path)
    assert [n for n, _ in seqs] == ["seq"] and "unknown layout" in problems[0][1]
    with pytest.raises(DatasetError, match="junk"):
        discover_sequences(tmp_path / "junk")
    with pytest.raises(DatasetError, match="no such"):
        discover_sequences(tmp_path / "nope")


def test_pair_folder_layouts(tmp_path):
    (tmp_path / "RGB").mkdir()
    (tmp_path / "Depth").mkdir()
    cv2.imwrite(str(tmp_path / "RGB" / "art.png"), np.zeros((32, 40, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "Depth" / "art.png"), np.full((32, 40), 120, np.uint8))
    cv2.imwrite(str(tmp_path / "RGB" / "bad.png"), np.zeros((32, 40, 3), np.uint8))
    np.save(tmp_path / "Depth" / "bad.npy", np.ones((31, 40), np.float32))
    pf = PairFolder(tmp_path)
    samples = list(pf)
    assert [s.name for s in samples] == ["art"] and samples[0].depth.max() == 120
    assert "bad" in pf.errors[0][0] and "differs" in pf.errors[0][1]
    res = evaluate([("mb", PairFolder(tmp_path))], build_methods(["bicubic"]), scales=(4,), protocol="middlebury",
                   progress=False)
    assert res.rows[0]["rmse"] == 0.0 and res.protocol.unit == "255"


def test_nyu_reader_in_memory_layout():
    n, H, W = 3, 12, 16
    depths = np.stack([np.full((W, H), i + 1.0) for i in range(n)])        # on disk: (N, W, H)
    images = np.zeros((n, 3, W, H), np.uint8)
    images[:, 0, :, :] = 255                                               # red
    ds = NYUv2({"images": images, "depths": depths}, split="all")
    s = ds.load(2)
    assert s.rgb.shape == (H, W, 3) and s.depth.shape == (H, W) and s.depth[0, 0] == 3.0
    assert (s.rgb[..., 0] == 255).all() and s.name == "nyu_0002"
    assert list(split_indices("test"))[:2] == [1000, 1001] and len(split_indices("test")) == 449
    with pytest.raises(DatasetError, match="none in the 'test' split"):
        NYUv2({"images": images, "depths": depths}, split="test")
    with pytest.raises(DatasetError, match="not found"):
        NYUv2("/nonexistent/nyu_depth_v2_labeled.mat")


def test_sweeps_with_fake_upscaler(seq, tmp_path, fake_up):
    res = run_sweeps(fake_up, [("seq", RGBDFolder(seq))], tmp_path / "sw", up_b=fake_up, scale=4, scales=(4,),
                     max_frames=1, progress=False)
    assert [r["steps"] for r in res["steps"] if r["label"] == "GRN"] == [1, 2, 3]
    assert {r["method"] for r in res["guidance"]} == {"GRN", "oracle"}
    assert len(res["ffm"]) == 2
    for f in ("sweeps.json", "sweeps.md", "rmse_vs_steps.png", "latency_vs_steps.png"):
        assert (tmp_path / "sw" / f).stat().st_size > 0


def test_cli_end_to_end(seq, tmp_path, capsys):
    from dsr_diff_ros.cli.eval import main
    rc = main(["--data", str(seq.parent), "--scales", "2", "4", "--methods", "bicubic", "jbu",
               "--out", str(tmp_path / "out"), "--quiet", "--no-figures"])
    out = capsys.readouterr().out
    assert rc == 0 and "| jbu |" in out and (tmp_path / "out" / "results.md").exists()
    rc = main(["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o2"), "--quiet"])
    assert rc == 2 and "missing" in capsys.readouterr().err


def test_bench_cli(seq, tmp_path, capsys):
    from dsr_diff_ros.cli.bench import main
    rc = main(["--data", str(seq), "--methods", "bicubic", "guided", "--frames", "1", "--repeats", "2",
               "--results-dir", str(tmp_path), "--name", "b"])
    js = json.loads((tmp_path / "b.json").read_text())
    assert rc == 0 and [r["method"] for r in js["rows"]] == ["bicubic", "guided"]
    assert js["rows"][0]["ms_median"] > 0 and "| guided |" in capsys.readouterr().out


def test_other_downsampling_kernels_run_as_modes(seq):
    """``--modes nearest cv2_cubic ...``: the clean protocol with the kernel other evaluation code uses; each gives
    its own rows, and a kernel that aliases scores differently from the papers' antialiased bicubic."""
    from dsr_diff_ros.cli.eval import build_parser

    assert build_parser().parse_args(["--data", "x", "--modes", "nearest", "cv2_cubic"]).modes == ["nearest", "cv2_cubic"]
    res = evaluate([("seq", RGBDFolder(seq))], build_methods(["bicubic"]), scales=(4,),
                   modes=("bicubic", "nearest", "cv2_cubic"), progress=False)
    rmse = {r["mode"]: r["rmse"] for r in res.summary()}
    assert set(rmse) == {"bicubic", "nearest", "cv2_cubic"} and all(np.isfinite(v) for v in rmse.values())
    assert rmse["nearest"] != rmse["bicubic"]
