"""UnmatchedFrames: colour frames the synchronizer never matches are counted once, with the reason."""
from dsr_diff_ros.sync_watch import UnmatchedFrames

S = 1_000_000_000


def test_overtaken_frame_without_camera_info_is_counted():
    w = UnmatchedFrames(queue_size=5, tolerance_ns=S // 50 - 1)
    w.info("rgb_info", 1 * S)
    assert w.image(1 * S) == [] and w.matched(1 * S) == (True, [])
    assert w.image(2 * S) == []                     # no camera info at 2 s (the one at 1 s must not count)
    w.info("rgb_info", 3 * S + S // 100)            # 10 ms off: within the 20 ms slop
    assert w.image(3 * S) == []
    assert w.matched(3 * S) == (True, [(2 * S, "camera_info")])
    assert w.pending == set()


def test_unpaired_when_the_info_was_there():
    w = UnmatchedFrames(queue_size=5, tolerance_ns=0)
    for t in (1, 2):
        w.info("rgb_info", t * S)
        w.image(t * S)
    assert w.matched(2 * S) == (True, [(1 * S, "unpaired")])


def test_queue_overflow_mirrors_the_synchronizer_and_stale_matches_are_refused():
    w = UnmatchedFrames(queue_size=2, tolerance_ns=0, info_keys=("rgb_info", "depth_info"))
    w.info("rgb_info", 1 * S)                        # depth info missing: still a camera_info reason
    assert w.image(1 * S) == [] and w.image(2 * S) == []
    assert w.image(3 * S) == [(1 * S, "camera_info")]   # the oldest leaves a queue of 2
    assert w.matched(3 * S) == (True, [(2 * S, "camera_info")])
    assert w.matched(2 * S) == (False, [])          # older than a match: already counted, skip it
    w.reset()
    assert w.matched(1 * S) == (True, [])           # new timeline after a reset
