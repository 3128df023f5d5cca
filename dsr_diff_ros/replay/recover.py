"""``dsr-diff-replay --recover``: read a damaged recording (power lost mid-write: an MCAP without its footer or
cut anywhere, a sqlite3 bag cut mid-write, a rosbag2 folder without metadata.yaml) through the record-by-record
scanners of ``salvage``, with the same surface as ``bagio.BagReader``, and say what was lost and where.

``open_reader(path, recover)`` is the one entry: an intact bag is read by ``BagReader`` as usual; with
``recover`` a bag ``BagReader`` refuses is read by ``RecoveredReader`` instead.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Iterable, Iterator, Optional

import yaml
from rosbags.interfaces import Connection, ConnectionExtRosbag2, MessageDefinition, MessageDefinitionFormat
from rosbags.typesys import get_types_from_msg, get_typestore

from .bagio import OUTPUT_STORE, BagError, BagReader, TopicInfo, _ReaderBase
from .salvage import Damage, scan_mcap, scan_sqlite


def storage_files(path: str | Path) -> list[Path]:
    """The .mcap/.db3 files of a rosbag2 folder (split files in name order), or the file itself."""
    p = Path(path)
    if p.is_file() and p.suffix in (".mcap", ".db3"):
        return [p]
    if p.is_dir():
        files = sorted(x for x in p.iterdir() if x.suffix in (".mcap", ".db3") and x.is_file())
        if files:
            return files
    raise BagError(f"{p}: nothing to recover (expected a rosbag2 folder holding .mcap or .db3 files, or one "
                   "such file; ROS 1 .bag files are not supported by --recover)")


def _expected_count(path: Path) -> Optional[int]:
    """message_count from metadata.yaml when the folder has one (how many messages the bag should hold)."""
    meta = (path if path.is_dir() else path.parent) / "metadata.yaml"
    try:
        info = yaml.safe_load(meta.read_text())["rosbag2_bagfile_information"]
        return int(info["message_count"])
    except Exception:
        return None


class RecoveredReader(_ReaderBase):
    """``BagReader``'s surface (topics, connection, messages, deserialize, close) over damaged storage files.

    Scans every file once on construction (topics, counts, the ``report``), again in ``messages``. Messages
    come in file order (rosbag2 writes them as they arrive; sqlite3 rows are sorted by log time)."""

    is_ros2 = True
    _NO_TOPICS = "  (no readable topic)"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.files = storage_files(self.path)
        self.typestore = get_typestore(OUTPUT_STORE)
        self._conns: dict[str, Connection] = {}
        self._by_id: dict[tuple[int, int], str] = {}
        counts: dict[str, int] = {}
        self.damage: list[Damage] = []
        for i, f in enumerate(self.files):
            dmg = Damage(str(f), f.stat().st_size)
            for rec in self._scan(f, dmg, with_data=False):
                if rec[0] == "schema":
                    self._register(rec[1], rec[2], rec[3])
                elif rec[0] == "channel":
                    self._add_channel(i, *rec[1:])
                elif rec[0] == "message" and (i, rec[1]) in self._by_id:
                    t = self._by_id[(i, rec[1])]
                    counts[t] = counts.get(t, 0) + 1
            self.damage.append(dmg)
        self.topics = {t: TopicInfo(t, c.msgtype, counts.get(t, 0)) for t, c in sorted(self._conns.items())}
        self.report = self._report()
        if not self._conns:
            raise BagError(f"{self.path}: nothing recoverable ({self.report['where'] or 'no topics found'})")

    @staticmethod
    def _scan(f: Path, dmg: Damage, with_data: bool = True):
        return scan_mcap(f, dmg) if f.suffix == ".mcap" else scan_sqlite(f, dmg, with_data=with_data)

    def _register(self, name: str, encoding: str, text: str) -> None:
        """Make a schema found in the file known to the typestore (standard types are already there)."""
        if name in self.typestore.types or encoding != "ros2msg" or not text:
            return
        try:
            self.typestore.register(get_types_from_msg(text, name))
        except Exception:
            pass  # an unparsable definition: deserialize() will name the type

    def _add_channel(self, file_index: int, cid: int, topic: str, msgtype: str, fmt: str) -> None:
        self._by_id[(file_index, cid)] = topic
        if topic not in self._conns:
            msgdef = MessageDefinition(MessageDefinitionFormat.NONE, "")
            self._conns[topic] = Connection(id=len(self._conns) + 1, topic=topic, msgtype=msgtype, msgdef=msgdef,
                                            digest="", msgcount=0, ext=ConnectionExtRosbag2(fmt or "cdr", []),
                                            owner=self)

    def _report(self) -> dict:
        recovered = sum(t.count for t in self.topics.values())
        expected = _expected_count(self.path)
        damaged = [d for d in self.damage if d.reason]
        return {"files": [asdict(d) for d in self.damage], "recovered_messages": recovered,
                "expected_messages": expected,
                "lost_messages": (expected - recovered) if expected is not None else None,
                "damaged": bool(damaged), "where": "; ".join(f"{Path(d.path).name}: {d.reason}" for d in damaged)}

    def summary(self) -> str:
        """One paragraph for the user: recovered, lost (or unknown), where the damage is."""
        r = self.report
        lost = (f"{r['lost_messages']} lost (metadata.yaml lists {r['expected_messages']})"
                if r["lost_messages"] is not None else "an unknown number lost after the damage (no metadata.yaml)")
        last = [d.last_ns for d in self.damage if d.last_ns is not None]
        when = f"; last intact message at log time {max(last) / 1e9:.3f} s" if last else ""
        return f"recovered {r['recovered_messages']} messages, {lost}; {r['where'] or 'no damage found'}{when}"

    # ------------------------------------------------------------------------- BagReader's surface
    # (__enter__/__exit__/close/describe/connection/message_count/deserialize: bagio._ReaderBase)
    def messages(self, topics: Iterable[str]) -> Iterator[tuple[str, int, bytes]]:
        """Yield (topic, log time ns, raw CDR bytes) of every complete message of ``topics``."""
        want = set(topics)
        for i, f in enumerate(self.files):
            for rec in self._scan(f, Damage(str(f), 0)):
                if rec[0] == "message":
                    t = self._by_id.get((i, rec[1]))
                    if t in want:
                        yield t, rec[2], rec[3]

    def _decode(self, raw: bytes, msgtype: str):
        return self.typestore.deserialize_cdr(raw, msgtype)


def looks_cut(path: str | Path) -> bool:
    """True when a storage file is shorter than it says: an sqlite3 header counting more pages than the file
    holds, an MCAP file not ending with the magic (SQLite may open a cut file and fail only mid-read)."""
    import struct

    try:
        files = storage_files(path)
    except BagError:
        return False
    for f in files:
        with open(f, "rb") as fh:
            head = fh.read(100)
            size = f.stat().st_size
            if f.suffix == ".db3" and len(head) == 100 and head[24:28] == head[92:96]:
                ps = struct.unpack(">H", head[16:18])[0]
                if (65536 if ps == 1 else ps) * struct.unpack(">I", head[28:32])[0] > size:
                    return True
            elif f.suffix == ".mcap":
                fh.seek(max(0, size - 8))
                if fh.read(8) != b"\x89MCAP0\r\n":
                    return True
    return False


def open_reader(path: str | Path, recover: bool = False):
    """``BagReader(path)``; with ``recover``, a bag it refuses (cut, no footer, no metadata.yaml) or a cut
    storage file (``looks_cut``) is read by ``RecoveredReader``. Returns the reader (``.report`` on a
    RecoveredReader says what was lost)."""
    try:
        if recover and Path(path).suffix != ".bag" and looks_cut(path):
            raise BagError(f"{path}: storage file shorter than its header says (cut mid-write)")
        return BagReader(path)
    except BagError as e:
        if not recover or (Path(path).suffix == ".bag"):
            raise
        try:
            return RecoveredReader(path)
        except BagError as e2:
            raise BagError(f"{e}\nrecovery failed too: {e2}") from None
