"""Damaged recordings (power lost mid-write): real bags made from the bundled Kinect sample, cut at several
offsets, replayed with --recover. Which messages are complete before the cut is worked out independently of
the recovery code (MCAP: where each message's bytes lie in the intact file; sqlite3: SQLite's own page map,
``dbstat``), and every frame whose RGB + depth messages are complete must come out, nothing else."""
from __future__ import annotations

import shutil
import sqlite3

import pytest

from dsr_diff_ros.pipeline import Pipeline
from dsr_diff_ros.replay.bagio import BagError, BagReader
from dsr_diff_ros.replay.codec import header_ns
from dsr_diff_ros.replay.driver import Replay, ReplayOptions
from dsr_diff_ros.replay.make_bag import MakeBagConfig, make_bag
from dsr_diff_ros.replay.models import BaselineUpscaler
from dsr_diff_ros.replay.recover import RecoveredReader
from tests_common import SAMPLE

RGB, DEPTH = "/camera/camera/color/image_raw", "/camera/camera/aligned_depth_to_color/image_raw"
OUT = "/dsr_diff/depth_upscaled/image"
CUTS = (0.2, 0.45, 0.7, 0.999)   # fractions of the storage file kept


@pytest.fixture(scope="module", params=["mcap", "sqlite3"])
def real_bag(request, tmp_path_factory):
    """10 real 640x480 Kinect frames (the sample twice), 40 messages, ~15 MB; + the intact messages in order."""
    out = tmp_path_factory.mktemp("realbag") / f"kinect_{request.param}"
    make_bag(SAMPLE, out, MakeBagConfig(storage=request.param, repeat=2))
    with BagReader(out) as r:
        msgs = list(r.messages(list(r.topics)))
    return out, request.param, msgs


def _storage(bag):
    return next(p for p in bag.iterdir() if p.suffix in (".mcap", ".db3"))


def _end_offsets_mcap(path, msgs):
    """End byte of each message's data in the file (uncompressed chunks hold the CDR bytes verbatim, in order)."""
    buf, pos, ends = path.read_bytes(), 0, []
    for _, _, raw in msgs:
        at = buf.find(raw, pos)
        assert at >= 0
        pos = at + len(raw)
        ends.append(pos)
    return ends


def _end_offsets_sqlite(path, msgs):
    """End byte of the last page each row needs (interior, leaf and overflow pages), from SQLite's dbstat."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    ps = con.execute("PRAGMA page_size").fetchone()[0]
    rows = con.execute("SELECT path, pageno, pagetype, ncell FROM dbstat WHERE name='messages'").fetchall()
    ids = [r[0] for r in con.execute("SELECT id FROM messages ORDER BY id")]
    by_id = {r[0]: (r[1], r[2]) for r in con.execute("SELECT id, topic_id, timestamp FROM messages")}
    names = dict(con.execute("SELECT id, name FROM topics").fetchall())
    con.close()
    internal = max(p for path_, p, t, _ in rows if t == "internal")   # one interior level at this size
    leaves = sorted((path_, p, n) for path_, p, t, n in rows if t == "leaf")
    overflow: dict[str, int] = {}
    for path_, p, t, _ in rows:
        if t == "overflow":
            cell = path_.split("+")[0]
            overflow[cell] = max(overflow.get(cell, 0), p)
    last_page, k = {}, 0
    for path_, p, n in leaves:
        for c in range(n):
            cell = f"{path_}{c:03x}"
            last_page[ids[k]] = max(internal, p, overflow.get(cell, 0))
            k += 1
    # rows in log-time order as rosbags returns them (ties: insertion order)
    order = sorted(ids, key=lambda i: (by_id[i][1], i))
    assert [(names[by_id[i][0]], by_id[i][1]) for i in order] == [(t, s) for t, s, _ in msgs]
    return [last_page[i] * ps for i in order]


def _cut(src, dst, frac, drop_metadata):
    shutil.copytree(src, dst)
    f = _storage(dst)
    size = int(f.stat().st_size * frac)
    with open(f, "r+b") as fh:
        fh.truncate(size)
    if drop_metadata:
        (dst / "metadata.yaml").unlink()
    return size


@pytest.mark.parametrize("frac", CUTS)
def test_cut_bag_recovers_every_complete_frame(real_bag, frac, tmp_path):
    src, storage, msgs = real_bag
    ends = (_end_offsets_mcap if storage == "mcap" else _end_offsets_sqlite)(_storage(src), msgs)
    drop_meta = frac == CUTS[1]                      # a crash before metadata.yaml was written
    size = _cut(src, tmp_path / "cut", frac, drop_meta)
    complete = [m for m, e in zip(msgs, ends) if e <= size]
    assert 0 < len(complete) < len(msgs) or frac == CUTS[-1]

    with pytest.raises(BagError, match="--recover"):                  # refused without --recover
        Replay(Pipeline(BaselineUpscaler("bicubic")), ReplayOptions(progress=False)).run(tmp_path / "cut",
                                                                                         tmp_path / "no")
    # the recovered messages are exactly the complete ones, byte for byte
    with RecoveredReader(tmp_path / "cut") as r:
        got = sorted(r.messages(list(r.topics)))
    assert got == sorted(complete)

    opts = ReplayOptions(recover=True, progress=False, metrics=False, baselines=(), copy_inputs="used")
    res = Replay(Pipeline(BaselineUpscaler("bicubic")), opts).run(tmp_path / "cut", tmp_path / "out")
    have = {(t, s) for t, s, _ in complete}
    stamps = sorted({s for t, s, _ in msgs if t == RGB})
    want = [s for s in stamps if (RGB, s) in have and (DEPTH, s) in have]
    assert res.error is None and res.frames == len(want) and res.dropped == 0
    rec = res.recovery
    assert rec["recovered_messages"] == len(complete) and rec["damaged"]
    if drop_meta:
        assert rec["lost_messages"] is None and "unknown number lost" in rec["summary"]
    else:
        assert rec["lost_messages"] == len(msgs) - len(complete)
    with BagReader(tmp_path / "out") as out:                           # closed cleanly: opens with its index
        got_stamps = [header_ns(out.deserialize(OUT, raw)) for _, _, raw in out.messages([OUT])]
    assert got_stamps == want


def test_garbage_file_is_a_clear_error(tmp_path):
    bag = tmp_path / "junk"
    bag.mkdir()
    (bag / "junk.mcap").write_bytes(b"\x00" * 1000)
    with pytest.raises(BagError, match="recovery failed too: .*nothing recoverable .*no MCAP magic"):
        Replay(Pipeline(BaselineUpscaler("bicubic")), ReplayOptions(recover=True, progress=False)).run(
            bag, tmp_path / "out")


def test_cli_recover_warns_and_exits_0(real_bag, tmp_path, capsys):
    from dsr_diff_ros.cli.replay import main

    src, _, msgs = real_bag
    _cut(src, tmp_path / "cut", 0.5, drop_metadata=False)
    args = [str(tmp_path / "cut"), "-o", str(tmp_path / "out"), "--model", "bicubic", "--no-metrics",
            "--report", "none", "--no-progress"]
    assert main(args) == 1 and "--recover" in capsys.readouterr().err
    assert main(args + ["--recover"]) == 0
    err = capsys.readouterr().err
    assert "warning: damaged bag: recovered" in err and f"(metadata.yaml lists {len(msgs)})" in err


def test_cut_ros1_bag_is_a_clear_error_naming_rosbag_reindex(tmp_path):
    """ROS 1 .bag recovery is not supported: a cut one is refused, with or without --recover, naming the tool."""
    from rosbags.rosbag1 import Writer as Writer1

    with BagReader(_ros2_bag(tmp_path)) as r, Writer1(tmp_path / "cut.bag") as w:
        conns = {}
        for t, ns, raw in r.messages([RGB, DEPTH]):
            if t not in conns:
                conns[t] = w.add_connection(t, r.topics[t].msgtype, typestore=r.typestore)
            w.write(conns[t], ns, raw)   # CDR bytes as payload: the cut index fails before any decoding
    f = tmp_path / "cut.bag"
    with open(f, "r+b") as fh:
        fh.truncate(int(f.stat().st_size * 0.6))
    for recover in (False, True):
        with pytest.raises(BagError, match="ROS 1 .*`rosbag reindex`"):
            Replay(Pipeline(BaselineUpscaler("bicubic")), ReplayOptions(recover=recover, progress=False)).run(
                f, tmp_path / f"out{recover}")


def _ros2_bag(tmp_path):
    out = tmp_path / "src"
    make_bag(SAMPLE, out, MakeBagConfig(storage="mcap"))
    return out
