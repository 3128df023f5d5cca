"""The procedural scene generator: deterministic, valid depth, texture without depth edges, speed."""
import time

import numpy as np

from dsr_diff_ros.data.synthetic import SceneGenerator


def test_deterministic_and_valid():
    g = SceneGenerator(64, 80)
    a, b, c = g(5), g(5), g(6)
    assert a.rgb.shape == (64, 80, 3) and a.rgb.dtype == np.uint8 and a.depth.shape == (64, 80)
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.depth, b.depth)
    assert not np.array_equal(a.depth, c.depth)
    for s in range(20):
        d = g(s).depth
        assert np.isfinite(d).all() and (d > 0).all()


def test_scenes_have_colour_edges_without_depth_edges():
    """Textured flat surfaces: many strong colour gradients sit where depth is smooth."""
    g = SceneGenerator(96, 96)
    share = []
    for s in range(12):
        x = g(s)
        gray = x.rgb.mean(2)
        cg = np.abs(np.diff(gray, axis=1)) > 30
        dz = np.abs(np.diff(x.depth, axis=1)) / x.depth[:, 1:] > 0.05
        if cg.sum():
            share.append((cg & ~dz).sum() / cg.sum())
    assert np.mean(share) > 0.3


def test_generator_speed_feeds_training():
    g = SceneGenerator(128, 128)
    t = time.perf_counter()
    for s in range(10):
        g(s)
    per = (time.perf_counter() - t) / 10
    assert per < 1.0  # generous bound; the benchmark reports the real number (~25 ms)


def _thin_runs(depth: np.ndarray, max_width: int = 3, jump: float = 0.1) -> int:
    """Horizontal runs of at most ``max_width`` pixels standing at least ``jump`` (relative) in front of both sides."""
    n = 0
    for row in depth:
        for w in range(1, max_width + 1):
            inner = np.lib.stride_tricks.sliding_window_view(row[1:-1], w).max(1)
            left, right = row[: len(row) - w - 1], row[w + 1:]
            n += int(((left - inner > jump * inner) & (right - inner > jump * inner)).sum())
    return n


def test_racks_are_parallel_slats_with_gaps():
    from dsr_diff_ros.data.synthetic import _thin_parts

    for seed in range(20):
        parts = _thin_parts("rack", np.zeros(3), 0.3, np.random.default_rng(seed), 1.0)
        slats, rail = parts[:-1], parts[-1]
        assert 3 <= len(slats) <= 7
        R = slats[0][2]
        assert all(np.allclose(p[2], R) for p in parts)
        pos = np.array([(c @ R)[0] for c, _, _ in slats])
        gaps = np.diff(pos) - 2 * slats[0][1][0]
        assert (gaps > 0).all()                                   # light between the slats
        assert rail[1][0] >= abs(pos).max()                       # the rail spans them all
        assert slats[0][1][0] < slats[0][1][1] / 2                # slats are thin and long


def test_scenes_hold_thin_structures():
    """Legs, slats and rails: a few-pixel-wide foreground in front of the background, in many scenes."""
    g = SceneGenerator(128, 128)
    with_thin = sum(_thin_runs(d) + _thin_runs(d.T) > 20 for d in (g(s).depth for s in range(60)))
    assert with_thin >= 8  # 13 of these 60 scenes; 0 before bars and racks existed
