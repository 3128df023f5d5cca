"""The package's synchronizer fallback against message_filters' own test cases (test_approxsync.py,
test_time_synchronizer.py), plus slop edges and reset."""
import random
import time
from types import SimpleNamespace

from dsr_diff_ros.sync import (ApproximateTimeSynchronizer, SimpleFilter, TimeSynchronizer,
                               make_synchronizer, reset_synchronizer, stamp_ns)


def stamp(t_s):
    ns = int(round(t_s * 1e9))
    return SimpleNamespace(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


class Msg:
    def __init__(self, t_s, data=None):
        self.header = SimpleNamespace(stamp=stamp(t_s))
        self.data = data


class Headerless:
    def __init__(self, data):
        self.data = data


def collect(ts):
    out = []
    ts.registerCallback(lambda *m: out.append(m))
    return out


def test_stamp_forms():
    assert stamp_ns(Msg(1.5)) == 1_500_000_000
    assert stamp_ns(SimpleNamespace(header=SimpleNamespace(stamp=SimpleNamespace(nanoseconds=7)))) == 7
    assert stamp_ns(Headerless(0)) is None


def test_approx_pairs_in_lockstep():
    m0, m1 = SimpleFilter(), SimpleFilter()
    ts = ApproximateTimeSynchronizer([m0, m1], 1, 0.1)
    out = collect(ts)
    for t in range(10):
        out.clear()
        a, b = Msg(t, 33), Msg(t, 34)
        m0.signalMessage(a)
        assert out == []
        m1.signalMessage(b)
        assert out == [(a, b)]


def test_approx_scrambled_sequences():
    random.seed(0)
    for n in range(1, 10):
        m0, m1 = SimpleFilter(), SimpleFilter()
        seq0 = [Msg(t, random.random()) for t in range(n)]
        seq1 = [Msg(t, random.random()) for t in range(n)]
        ts = ApproximateTimeSynchronizer([m0, m1], n, 0.1)
        out = collect(ts)
        for m in random.sample(seq0, n):
            m0.signalMessage(m)
        assert out == []
        for m in random.sample(seq1, n):
            m1.signalMessage(m)
        assert set(out) == set(zip(seq0, seq1))


def test_approx_headerless():
    random.seed(0)
    for n in range(1, 10):
        m0, m1 = SimpleFilter(), SimpleFilter()
        now = time.time()
        seq0 = [Msg(now + t, random.random()) for t in range(n)]
        seq1 = [Headerless(random.random()) for _ in range(n)]
        ts = ApproximateTimeSynchronizer([m0, m1], n, 10, allow_headerless=True)
        out = collect(ts)
        for m in random.sample(seq0, n):
            m0.signalMessage(m)
        assert out == []
        for m in seq1:
            m1.signalMessage(m)
        assert set(out) == set(zip(seq0, seq1))


def test_headerless_ignored_by_default():
    m0, m1 = SimpleFilter(), SimpleFilter()
    out = collect(ApproximateTimeSynchronizer([m0, m1], 5, 10))
    m0.signalMessage(Msg(time.time()))
    m1.signalMessage(Headerless(1))
    assert out == []


def test_approx_slop_edges():
    m0, m1 = SimpleFilter(), SimpleFilter()
    out = collect(ApproximateTimeSynchronizer([m0, m1], 10, 0.02))
    m0.signalMessage(Msg(1.0))
    m1.signalMessage(Msg(1.03))          # 30 ms apart > slop: nothing
    assert out == []
    m1.signalMessage(Msg(1.015))         # 15 ms: pair
    assert len(out) == 1 and stamp_ns(out[0][1]) == 1_015_000_000
    m0.signalMessage(Msg(2.0))
    m1.signalMessage(Msg(2.02))          # exactly slop: message_filters requires spread < slop
    assert len(out) == 1


def test_approx_queue_size_drops_oldest():
    m0, m1 = SimpleFilter(), SimpleFilter()
    out = collect(ApproximateTimeSynchronizer([m0, m1], 2, 0.01))
    for t in (1, 2, 3):
        m0.signalMessage(Msg(t))
    m1.signalMessage(Msg(1))
    assert out == []                     # stamp 1 fell out of the queue
    m1.signalMessage(Msg(3))
    assert len(out) == 1


def test_approx_three_inputs_and_reset():
    fs = [SimpleFilter() for _ in range(3)]
    ts = ApproximateTimeSynchronizer(fs, 5, 0.05)
    out = collect(ts)
    fs[0].signalMessage(Msg(1.00))
    fs[1].signalMessage(Msg(1.01))
    ts.reset()
    fs[2].signalMessage(Msg(1.02))
    assert out == []
    fs[0].signalMessage(Msg(1.00))
    fs[1].signalMessage(Msg(1.01))
    assert len(out) == 1


def test_time_synchronizer_exact():
    random.seed(0)
    for n in range(1, 10):
        m0, m1 = SimpleFilter(), SimpleFilter()
        seq0 = [Msg(t, random.random()) for t in range(n)]
        seq1 = [Msg(t, random.random()) for t in range(n)]
        out = collect(TimeSynchronizer([m0, m1], n))
        for m in random.sample(seq0, n):
            m0.signalMessage(m)
        assert out == []
        for m in random.sample(seq1, n):
            m1.signalMessage(m)
        assert set(out) == set(zip(seq0, seq1))
    m0, m1 = SimpleFilter(), SimpleFilter()
    out = collect(TimeSynchronizer([m0, m1], 5))
    m0.signalMessage(Msg(1.0))
    m1.signalMessage(Msg(1.001))
    assert out == []


def test_make_synchronizer_fallback():
    ts, impl = make_synchronizer([SimpleFilter(), SimpleFilter()], 5, 0.02, prefer_ros=False)
    assert impl == "dsr_diff_ros.sync" and isinstance(ts, ApproximateTimeSynchronizer)
    ts, _ = make_synchronizer([SimpleFilter(), SimpleFilter()], 5, 0.02, exact=True, prefer_ros=False)
    assert type(ts) is TimeSynchronizer


def test_reset_synchronizer_without_reset_method():
    class Foreign:  # shaped like message_filters' synchronizers: queues + lock, no reset()
        import threading
        lock = threading.Lock()
        queues = [{1: "a"}, {2: "b"}]
    f = Foreign()
    reset_synchronizer(f)
    assert f.queues == [{}, {}]
