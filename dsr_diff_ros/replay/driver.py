"""The replay: bag in -> same pairing (``sync``) and processing (``pipeline``) as the node -> bag out + metrics.

``Replay(pipeline, options).run(bag, out)`` reads the bag in time order, copies the input messages to the output
rosbag2, pairs RGB and depth (and ground truth) with ``sync.ApproximateTimeSynchronizer``, runs
``Pipeline.process`` on each pair, writes the upscaled depth, its camera info, optional point cloud and the
per-frame stats with the input header stamps, and scores the model and the baselines on the same frames.
Ctrl-C or a read error part-way stops the loop; the output bag is then closed with everything done so far.
"""
from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..evaluation import baselines
from ..frame import Frame, Intrinsics
from ..pipeline import FrameError, Pipeline
from .. import convert
from ..sync import ApproximateTimeSynchronizer, SimpleFilter
from .bagio import BagError, BagReader, BagWriter
from .recover import RecoveredReader, open_reader
from .codec import Encoder, decode_depth, decode_rgb, header_ns
from .quality import MethodTracker, summarize
from .sensor import SimSensorConfig, SimulatedSensor
from .stats_msg import make_stats_msg
from .topics import TopicSelection, detect_topics, listing

MODEL = "dsr_diff"


class ReplayError(RuntimeError):
    """A fatal replay problem (missing camera info, no pairs, ...) with a clear message."""


@dataclass
class ReplayOptions:
    """Everything ``dsr-diff-replay`` can be told (see docs/replay.md)."""

    rgb: Optional[str] = None
    depth: Optional[str] = None
    rgb_info: Optional[str] = None
    depth_info: Optional[str] = None
    gt: Optional[str] = None
    gt_info: Optional[str] = None
    auto_gt: bool = True
    camera_yaml: Optional[str] = None
    simulate: Optional[SimSensorConfig] = None
    slop: float = 0.03
    queue_size: int = 30
    depth_encoding: str = "32FC1"
    namespace: str = "/dsr_diff"
    points: bool = False
    copy_inputs: str = "all"            # "all" topics of the bag, "used" (selected ones) or "none"
    storage: str = "mcap"                # rosbag2 default since Iron; faster to write than sqlite3
    overwrite: bool = False
    baselines: tuple = ("bicubic", "guided")
    metrics: bool = True
    max_frames: Optional[int] = None
    progress: bool = True
    figure_frame: Optional[int] = None  # index of the frame kept for the figures (None: the middle one)
    recover: bool = False               # read a damaged bag record by record (see replay/recover.py)


@dataclass
class ReplayResult:
    """What a run did: counts, topics, per-method rows and summaries, timings, the kept figure frame."""

    bag: str
    out: str
    topics: dict
    output_topics: dict = field(default_factory=dict)
    frames: int = 0
    pairs: int = 0
    dropped: int = 0
    drop_reasons: list = field(default_factory=list)
    interrupted: bool = False
    error: Optional[str] = None
    rows: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    timing: dict = field(default_factory=dict)
    figure: Optional[dict] = None
    has_gt: bool = False
    config: dict = field(default_factory=dict)
    recovery: Optional[dict] = None     # a damaged bag read with --recover: recovered/lost messages, where


class _Msg:
    """A decoded-later message with the attributes the synchronizer needs (``header``)."""

    __slots__ = ("header", "msg", "topic", "msgtype", "logtime")

    def __init__(self, msg, topic, msgtype, logtime):
        self.header, self.msg, self.topic, self.msgtype, self.logtime = msg.header, msg, topic, msgtype, logtime


def _yaml_intrinsics(path: str) -> Intrinsics:
    from ..data.folder import read_camera_yaml

    return read_camera_yaml(path)[0]


def select_topics(reader: BagReader, o: ReplayOptions, native_depth: bool = False) -> TopicSelection:
    """Topics of ``reader`` for the options ``o``; raises TopicError/ReplayError listing the bag's topics.
    ``native_depth``: the pipeline registers depth, so the sensor's own depth is preferred (``detect_topics``)."""
    types = {t: i.msgtype for t, i in reader.topics.items()}
    sel = detect_topics(types, o.rgb, o.depth, o.rgb_info, o.depth_info, o.gt, o.gt_info,
                        auto_gt=o.auto_gt and o.simulate is None, native_depth=native_depth)
    if o.simulate is not None and sel.gt:
        raise ReplayError("--simulate makes the depth topic the ground truth; do not also give --gt")
    if sel.rgb_info is None and not o.camera_yaml:
        raise ReplayError(f"no camera_info topic found for the RGB topic {sel.rgb}; name it with --rgb-info "
                          f"or give the intrinsics with --camera-yaml. The bag has:\n{listing(types)}")
    for role, topic in (("RGB", sel.rgb), ("depth", sel.depth), ("ground-truth", sel.gt)):
        if topic and reader.topics[topic].count == 0:
            raise ReplayError(f"the {role} topic {topic} has no messages")
    return sel


def check_bag(bag: str | Path, o: ReplayOptions, native_depth: bool = False) -> TopicSelection:
    """Open ``bag`` and select its topics without running anything (fail fast, before loading the model)."""
    with open_reader(bag, o.recover) as r:
        return select_topics(r, o, native_depth)


class Replay:
    """One replay run; ``pipeline`` is a ``pipeline.Pipeline`` (the same object type the node uses)."""

    def __init__(self, pipeline: Pipeline, options: Optional[ReplayOptions] = None):
        self.pipeline = pipeline
        self.o = options or ReplayOptions()
        self.sim = SimulatedSensor(self.o.simulate) if self.o.simulate else None
        mid = str(getattr(pipeline.upscaler, "model_id", ""))
        self.label = mid if mid.startswith("baseline:") else MODEL
        for b in self.o.baselines:
            baselines.get_method(b)  # unknown name -> error before the run starts

    def select(self, reader: BagReader) -> TopicSelection:
        """Topic selection for this bag (see ``select_topics``; a registering pipeline prefers the native depth)."""
        return select_topics(reader, self.o, native_depth=bool(getattr(self.pipeline, "register", False)))

    def output_topics(self) -> dict:
        ns = self.o.namespace.rstrip("/")
        t = {"depth": f"{ns}/depth_upscaled/image", "info": f"{ns}/depth_upscaled/camera_info",
             "stats": f"{ns}/stats"}
        if self.o.points:
            t["points"] = f"{ns}/depth_upscaled/points"
        if self.sim is not None:
            t["sim_depth"] = f"{ns}/sim/depth/image"
            t["sim_info"] = f"{ns}/sim/depth/camera_info"
        return t

    # ------------------------------------------------------------------------------------------- run
    def run(self, bag: str | Path, out: str | Path) -> ReplayResult:
        """Replay ``bag`` into the rosbag2 ``out``. Fatal problems raise BagError/TopicError/ReplayError
        before the output is created; Ctrl-C and read errors part-way end the run with ``interrupted``/``error``
        set and a properly closed output bag."""
        o = self.o
        reader = open_reader(bag, o.recover)
        try:
            sel = self.select(reader)
            res = ReplayResult(bag=str(bag), out=str(out), topics=sel.to_dict(), output_topics=self.output_topics(),
                               has_gt=bool(sel.gt) or self.sim is not None)
            if isinstance(reader, RecoveredReader):
                res.recovery = {**reader.report, "summary": reader.summary()}
            writer = BagWriter(out, o.storage, overwrite=o.overwrite)
            try:
                self._loop(reader, writer, sel, res)
            finally:
                writer.close()
        finally:
            reader.close()
        self._finish(res, writer)
        return res

    def _loop(self, reader: BagReader | RecoveredReader, writer: BagWriter, sel: TopicSelection, res: ReplayResult) -> None:
        o = self.o
        used = set(sel.inputs())
        read = list(reader.topics) if o.copy_inputs == "all" else sorted(used)
        copy = set(read) if o.copy_inputs in ("all", "used") else set()
        enc = Encoder(writer.typestore)
        self._enc, self._writer = enc, writer
        self._infos: dict[str, Intrinsics] = {}
        if o.camera_yaml:
            self._infos["rgb"] = _yaml_intrinsics(o.camera_yaml)
        roles = {sel.rgb_info: "rgb", sel.depth_info: "depth", sel.gt_info: "gt"}
        roles.pop(None, None)
        image_roles = [sel.rgb, sel.depth] + ([sel.gt] if sel.gt else [])
        filters = [SimpleFilter() for _ in image_roles]
        sync = ApproximateTimeSynchronizer(filters, o.queue_size, o.slop)
        pending: list = []
        sync.registerCallback(lambda *m: pending.append(m))
        self._deferred: list = []
        self._trackers = {self.label: MethodTracker(self.label)} | {b: MethodTracker(b) for b in o.baselines}
        n_pairs_est = min(reader.topics[t].count for t in image_roles)
        self._fig_index = o.figure_frame if o.figure_frame is not None else max(0, (n_pairs_est - 1) // 2)
        self._res = res
        tm = res.timing = {"read": 0.0, "copy": 0.0, "decode": 0.0, "sync": 0.0, "infer": 0.0, "write": 0.0,
                           "eval": 0.0, "wall": 0.0}
        total = sum(reader.topics[t].count for t in read)
        bar = _progress(total, o.progress)
        t_start = time.perf_counter()
        it = reader.messages(read)
        try:
            while True:
                if o.max_frames is not None and res.frames >= o.max_frames:
                    break
                t0 = time.perf_counter()
                try:
                    topic, logtime, raw = next(it)
                except StopIteration:
                    break
                t1 = time.perf_counter()
                tm["read"] += t1 - t0
                if topic in copy:
                    writer.copy(reader, topic, raw, logtime)
                t2 = time.perf_counter()
                tm["copy"] += t2 - t1
                if topic in roles:
                    self._infos[roles[topic]] = convert.info_to_intrinsics(reader.deserialize(topic, raw))
                    tm["decode"] += time.perf_counter() - t2
                elif topic in image_roles:
                    msg = _Msg(reader.deserialize(topic, raw), topic, reader.topics[topic].msgtype, logtime)
                    t3 = time.perf_counter()
                    tm["decode"] += t3 - t2
                    for i, name in enumerate(image_roles):
                        if name == topic:
                            filters[i].signalMessage(msg)
                    tm["sync"] += time.perf_counter() - t3
                    while pending:
                        res.pairs += 1
                        self._deferred.append(pending.pop(0))
                    self._drain(sel)
                bar.update(1)
                if bar.n % 50 == 0:
                    bar.set_postfix(frames=res.frames, dropped=res.dropped, refresh=False)
            self._drain(sel, final=True)
        except KeyboardInterrupt:
            res.interrupted = True
        except BagError as e:
            res.error = str(e)
        finally:
            bar.close()
            tm["wall"] = time.perf_counter() - t_start

    # --------------------------------------------------------------------------------------- frames
    def _drain(self, sel: TopicSelection, final: bool = False) -> None:
        """Process the paired messages whose camera info is known (pairs wait for a late first camera_info)."""
        if "rgb" not in self._infos:
            if final and self._deferred:
                raise ReplayError(f"no camera_info message arrived on {sel.rgb_info}; cannot produce the output "
                                  "camera info (give the intrinsics with --camera-yaml)")
            self._deferred = self._deferred[-self.o.queue_size:]
            return
        while self._deferred:
            if self.o.max_frames is not None and self._res.frames >= self.o.max_frames:
                self._deferred.clear()
                return
            self._process(self._deferred.pop(0))

    def _drop(self, reason: str) -> None:
        res = self._res
        res.dropped += 1
        if len(res.drop_reasons) < 20:
            res.drop_reasons.append(reason)
        if res.dropped <= 3:
            from tqdm import tqdm

            tqdm.write(f"dsr-diff-replay: frame skipped: {reason}")

    def _process(self, msgs) -> None:
        o, res, tm, enc, w = self.o, self._res, self._res.timing, self._enc, self._writer
        rgb_m, depth_m = msgs[0], msgs[1]
        gt_m = msgs[2] if len(msgs) > 2 else None
        stamp, frame_id = header_ns(rgb_m.msg), str(rgb_m.msg.header.frame_id)
        logtime = max(m.logtime for m in msgs)
        t0 = time.perf_counter()
        try:
            rgb = decode_rgb(rgb_m.msg, rgb_m.msgtype)
            depth = decode_depth(depth_m.msg, depth_m.msgtype)
            gt = decode_depth(gt_m.msg, gt_m.msgtype) if gt_m is not None else None
        except convert.ConversionError as e:
            tm["decode"] += time.perf_counter() - t0
            return self._drop(f"stamp {stamp}: {e}")
        rgb_info, depth_info = self._infos["rgb"], self._infos.get("depth")
        if self.sim is not None:
            gt = np.where(np.isfinite(depth), depth, 0).astype(np.float32)
            depth, depth_info = self.sim(gt, depth_info if depth_info is not None and
                                         (depth_info.width, depth_info.height) == gt.shape[::-1] else rgb_info)
        t1 = time.perf_counter()
        tm["decode"] += t1 - t0
        frame = Frame(rgb=rgb, depth=depth, rgb_info=rgb_info, depth_info=depth_info, stamp_ns=stamp,
                      frame_id=frame_id)
        try:
            r = self.pipeline.process(frame)
        except FrameError as e:
            tm["infer"] += time.perf_counter() - t1
            return self._drop(f"stamp {stamp}: {e}")
        except KeyboardInterrupt:  # the aborted inference is not replay overhead
            tm["infer"] += time.perf_counter() - t1
            raise
        t2 = time.perf_counter()
        tm["infer"] += t2 - t1
        hdr = enc.header(stamp, frame_id)
        topics = res.output_topics
        out_info = r.info or rgb_info
        w.write(topics["depth"], enc.depth(r.depth, hdr, o.depth_encoding), logtime)
        w.write_raw(topics["info"], "sensor_msgs/msg/CameraInfo", self._info_bytes(out_info, frame_id, stamp), logtime)
        if o.points and r.points is not None:
            w.write(topics["points"], enc.cloud(r.points, r.rgb, hdr), logtime)
        if self.sim is not None:
            w.write(topics["sim_info"], enc.info(depth_info, hdr), logtime)
            w.write(topics["sim_depth"], enc.depth(depth, hdr, o.depth_encoding), logtime)
        res.frames += 1
        t3 = time.perf_counter()
        stats = self._stats(r, (t1 - t0) * 1e3, (t3 - t2) * 1e3)
        w.write(topics["stats"], make_stats_msg(w.typestore, w.stats_msgtype, stats, hdr), logtime)
        tm["write"] += time.perf_counter() - t2
        if o.metrics:
            t4 = time.perf_counter()
            self._score(res.frames - 1, stamp, rgb, depth, gt, r)
            tm["eval"] += time.perf_counter() - t4

    def _info_bytes(self, intr: Intrinsics, frame_id: str, stamp: int) -> bytes:
        """Serialised CameraInfo: built once per (intrinsics, frame_id), then only the stamp is patched
        (CDR: 4-byte encapsulation header, then header.stamp sec int32 + nanosec uint32, little endian)."""
        key = (intr, frame_id)
        cache = self.__dict__.setdefault("_info_cache", {})
        if key not in cache:
            w = self._writer
            cache[key] = bytearray(w.typestore.serialize_cdr(self._enc.info(intr, self._enc.header(0, frame_id)),
                                                             "sensor_msgs/msg/CameraInfo"))
            assert cache[key][:2] == b"\x00\x01", "expected little-endian CDR"
        buf = bytearray(cache[key])
        struct.pack_into("<iI", buf, 4, stamp // 1_000_000_000, stamp % 1_000_000_000)
        return bytes(buf)

    def _stats(self, r, convert_ms: float, publish_ms: float) -> dict:
        up = self.pipeline.upscaler
        t = r.timings_ms
        res = self._res
        return {"input_width": r.input_hw[1], "input_height": r.input_hw[0], "output_width": r.output_hw[1],
                "output_height": r.output_hw[0], "scale": r.output_hw[1] / r.input_hw[1],
                "diffusion_steps": r.steps, "latency_convert_ms": convert_ms,
                "latency_register_ms": t.get("register", 0.0), "latency_inference_ms": t.get("infer", 0.0),
                "latency_points_ms": t.get("points", 0.0), "latency_publish_ms": publish_ms,
                "latency_total_ms": convert_ms + t.get("total", 0.0) + publish_ms,
                "valid_ratio_in": r.valid_ratio_in, "valid_ratio_out": r.valid_ratio_out,
                "pairs_received": res.pairs, "pairs_processed": res.frames, "pairs_replaced": 0,
                "pairs_dropped_bad_input": res.dropped, "device": str(getattr(up, "device", "cpu")),
                "model_id": str(getattr(up, "model_id", type(up).__name__))}

    def _score(self, index: int, stamp: int, rgb, lr, gt, r) -> None:
        lr = np.where(np.isfinite(lr) & (lr > 0), lr, 0).astype(np.float32)
        if gt is not None and gt.shape != r.depth.shape:
            if not self._res.config.get("gt_size_warned"):
                self._res.config["gt_size_warned"] = True
                from tqdm import tqdm

                tqdm.write(f"dsr-diff-replay: ground truth {gt.shape[1]}x{gt.shape[0]} does not match the output "
                           f"{r.depth.shape[1]}x{r.depth.shape[0]}: ground-truth metrics skipped")
            gt = None
        outs = {self.label: (r.depth, r.timings_ms.get("total", 0.0))}
        for b in self.o.baselines:
            t0 = time.perf_counter()
            pred = baselines.get_method(b)(lr, rgb, fill_holes=self.pipeline.fill_holes)
            outs[b] = (np.asarray(pred, np.float32), (time.perf_counter() - t0) * 1e3)
        for name, (pred, ms) in outs.items():
            self._trackers[name].update(index, stamp, pred, lr, gt, ms)
        if index == self._fig_index:
            self._res.figure = {"index": index, "stamp_ns": stamp, "rgb": rgb, "lr": lr, "gt": gt,
                                "outputs": {k: v[0] for k, v in outs.items()}}

    def _finish(self, res: ReplayResult, writer: BagWriter) -> None:
        res.rows = {k: t.rows for k, t in getattr(self, "_trackers", {}).items()}
        res.summary = {k: summarize(v) for k, v in res.rows.items()} if self.o.metrics else {}
        tm = res.timing
        if tm:
            n = max(res.frames, 1)
            tm["frames"] = res.frames
            tm["overhead_ms_per_frame"] = (tm["wall"] - tm["infer"] - tm["eval"]) * 1e3 / n
            tm["infer_ms_per_frame"] = tm["infer"] * 1e3 / n
            tm["eval_ms_per_frame"] = tm["eval"] * 1e3 / n
            tm["fps"] = res.frames / tm["wall"] if tm["wall"] > 0 else None
        res.output_topics = {k: v for k, v in res.output_topics.items() if v in writer.counts}
        res.config = {"counts": dict(writer.counts), "storage": self.o.storage,
                      "simulate": self.o.simulate.to_dict() if self.o.simulate else None,
                      "steps": self.pipeline.steps, "ensemble": self.pipeline.ensemble,
                      "fill_holes": self.pipeline.fill_holes,
                      "baselines": list(self.o.baselines), "slop": self.o.slop,
                      "model_id": str(getattr(self.pipeline.upscaler, "model_id", "")),
                      "device": str(getattr(self.pipeline.upscaler, "device", "cpu"))}


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="msg", desc="replay", disable=not enabled, dynamic_ncols=True, leave=False)
