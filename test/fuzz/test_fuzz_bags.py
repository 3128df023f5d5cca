"""Fuzzing the replay's bag readers: small real bags (mcap and sqlite3) cut, overwritten or padded with garbage.
``--recover`` (``RecoveredReader``) and ``BagReader`` either raise ``BagError`` or return messages; a cut bag
yields only messages identical to the intact ones (a prefix of complete messages, nothing invented)."""
from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dsr_diff_ros.replay.bagio import BagError, BagReader
from dsr_diff_ros.replay.make_bag import MakeBagConfig, make_bag
from dsr_diff_ros.replay.recover import RecoveredReader, open_reader

FUZZ = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module", params=["mcap", "sqlite3"])
def small_bag(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzzbag")
    seq = root / "seq"
    seq.mkdir()
    for i in range(3):
        cv2.imwrite(str(seq / f"{i:03d}_color.png"), np.full((48, 64, 3), 40 * i, np.uint8))
        cv2.imwrite(str(seq / f"{i:03d}_depth.png"), np.full((48, 64), 1000 + i, np.uint16))
    (seq / "camera.yaml").write_text("width: 64\nheight: 48\nfx: 50.0\nfy: 50.0\ncx: 31.5\ncy: 23.5\n"
                                     "depth_scale: 0.001\n")
    bag = root / f"bag_{request.param}"
    make_bag(seq, bag, MakeBagConfig(storage=request.param))
    with BagReader(bag) as r:
        msgs = list(r.messages(list(r.topics)))
    f = next(p for p in bag.iterdir() if p.suffix in (".mcap", ".db3"))
    return bag, f.name, f.read_bytes(), msgs


def _write(bag, name, data, tmp):
    d = tmp / "b"
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(bag, d)
    (d / name).write_bytes(data)
    return d


def _read_all(reader):
    with reader as r:
        return list(r.messages(list(r.topics)))


@FUZZ
@given(cut=st.floats(0.0, 1.0))
def test_cut_anywhere_yields_only_intact_messages(small_bag, tmp_path_factory, cut):
    bag, name, data, msgs = small_bag
    d = _write(bag, name, data[: int(len(data) * cut)], tmp_path_factory.mktemp("cut"))
    try:
        got = _read_all(open_reader(d, recover=True))
    except BagError:
        return
    assert set(got) <= set(msgs)


@FUZZ
@given(pos=st.floats(0.0, 1.0), junk=st.binary(min_size=1, max_size=64), mode=st.sampled_from(["over", "insert"]))
@example(pos=0.046875, junk=b"\x80", mode="over")   # found 2026-11-26: invalid UTF-8 in the .db3 topics table
def test_garbage_inside_never_crashes(small_bag, tmp_path_factory, pos, junk, mode):
    bag, name, data, msgs = small_bag
    i = int(len(data) * pos)
    bad = data[:i] + junk + data[i + (len(junk) if mode == "over" else 0):]
    d = _write(bag, name, bad, tmp_path_factory.mktemp("junk"))
    for make in (lambda: BagReader(d), lambda: RecoveredReader(d)):
        try:
            got = _read_all(make())
        except BagError:
            continue
        assert len(got) <= len(msgs) + 1 and all(isinstance(raw, (bytes, memoryview)) for _, _, raw in got)
