"""Damaged lz4-compressed MCAP (a recorder with ``compression: lz4`` chunks, e.g. ``ros2 bag record
--storage-preset-profile fastwrite`` or Foxglove tools): a real bag rewritten with lz4 chunks by the ``mcap``
package, cut at several offsets. Messages of every chunk that ends before the cut must come back byte for byte,
and a cut inside a chunk still yields that chunk's leading messages (streaming lz4 decompression)."""
from __future__ import annotations

import shutil

import pytest
from mcap.writer import CompressionType, Writer

from dsr_diff_ros.pipeline import Pipeline
from dsr_diff_ros.replay.bagio import BagReader
from dsr_diff_ros.replay.driver import Replay, ReplayOptions
from dsr_diff_ros.replay.make_bag import MakeBagConfig, make_bag
from dsr_diff_ros.replay.models import BaselineUpscaler
from dsr_diff_ros.replay.recover import RecoveredReader
from tests_common import SAMPLE

RGB, DEPTH = "/camera/camera/color/image_raw", "/camera/camera/aligned_depth_to_color/image_raw"
CHUNK = 4 << 20   # ~5 frames' messages per chunk: cuts land inside chunks


@pytest.fixture(scope="module")
def lz4_bag(tmp_path_factory):
    """(bag folder, messages in file order, file offset after each message's chunk, chunk start offsets)."""
    root = tmp_path_factory.mktemp("lz4")
    make_bag(SAMPLE, root / "src", MakeBagConfig(storage="mcap", repeat=3))
    with BagReader(root / "src") as r:
        msgs = list(r.messages(list(r.topics)))
        defs = {t: (r.connection(t).msgtype, r.connection(t).msgdef.data) for t in r.topics}
    mcap = next((root / "src").glob("*.mcap"))
    (root / "bag").mkdir()
    shutil.copy(root / "src" / "metadata.yaml", root / "bag")
    chunk_end, starts, pending = [], [], 0
    with open(root / "bag" / mcap.name, "wb") as f:
        w = Writer(f, chunk_size=CHUNK, compression=CompressionType.LZ4)
        w.start(profile="ros2", library="test")
        cids = {}
        for t, (typ, text) in defs.items():
            sid = w.register_schema(typ, "ros2msg", text.encode())
            cids[t] = w.register_channel(t, "cdr", sid)
        for i, (t, ns, raw) in enumerate(msgs):
            before = f.tell()
            w.add_message(cids[t], ns, raw, ns)
            if f.tell() != before:             # a chunk was flushed: it holds the messages since the last one
                starts.append(before)
                chunk_end += [f.tell()] * (i + 1 - pending)
                pending = i + 1
        w.finish()
        starts.append(f.tell())                # the last chunk goes out in finish()
        chunk_end += [f.tell()] * (len(msgs) - pending)
    return root / "bag", msgs, chunk_end, starts


def test_intact_lz4_bag_reads_back(lz4_bag):
    bag, msgs, _, starts = lz4_bag
    assert len(starts) >= 3
    with BagReader(bag) as r:
        assert list(r.messages(list(r.topics))) == msgs


@pytest.mark.parametrize("where", [(1, 0.6), (2, 0.3), (2, 0.9)])
def test_cut_lz4_bag_recovers_complete_chunks_and_the_cut_chunk_head(lz4_bag, where, tmp_path):
    bag, msgs, chunk_end, starts = lz4_bag
    k, frac = where                                       # cut inside chunk k, frac of the way through it
    size = int(starts[k] + frac * (starts[k + 1] - starts[k]))
    shutil.copytree(bag, tmp_path / "cut")
    f = next((tmp_path / "cut").glob("*.mcap"))
    with open(f, "r+b") as fh:
        fh.truncate(size)
    whole = sum(1 for e in chunk_end if e <= starts[k])    # messages of the chunks before chunk k
    in_cut = sum(1 for e in chunk_end if e == chunk_end[whole])
    with RecoveredReader(tmp_path / "cut") as r:
        got = list(r.messages(list(r.topics)))
        assert r.report["damaged"] and "lz4" not in str(r.report["files"][0]["notes"])
    assert got == msgs[:len(got)]                          # byte for byte, in order, nothing invented
    assert whole < len(got) < whole + in_cut               # the cut chunk's head is read, its tail is not

    opts = ReplayOptions(recover=True, progress=False, metrics=False, baselines=(), copy_inputs="none")
    res = Replay(Pipeline(BaselineUpscaler("bicubic")), opts).run(tmp_path / "cut", tmp_path / "out")
    have = {(t, s) for t, s, _ in got}
    want = sorted({s for t, s, _ in got if t == RGB and (DEPTH, s) in have})
    assert res.error is None and res.frames == len(want) > 0
    assert res.recovery["lost_messages"] == len(msgs) - len(got)
