"""Bag input/output on top of rosbags (pure Python; no ROS install needed).

``BagReader`` opens rosbag2 (sqlite3 or mcap) directories and ROS 1 ``.bag`` files through
``rosbags.highlevel.AnyReader`` and turns every failure (missing path, corrupt or truncated file,
missing type definitions) into a ``BagError`` with a clear message. ``BagWriter`` writes a rosbag2
(sqlite3 or mcap) with the ROS 2 typestore, copies input messages (raw for ROS 2 inputs, migrated for
ROS 1 inputs) and is always closed properly, so a bag interrupted mid-run holds what was written.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from .stats_msg import register_stats_type

OUTPUT_STORE = Stores.ROS2_KILTED


class BagError(RuntimeError):
    """A bag that cannot be opened or read, with the path and the reason in the message."""


@dataclass
class TopicInfo:
    """One topic of a bag: message type and number of messages."""

    name: str
    msgtype: str
    count: int


def _bag_path(path: str | Path) -> Path:
    """Normalise a user path: a ``.db3``/``.mcap`` file inside a rosbag2 directory means the directory."""
    p = Path(path)
    if not p.exists():
        raise BagError(f"{p}: no such bag (expected a rosbag2 directory with metadata.yaml or a ROS 1 .bag file)")
    if p.is_file() and p.suffix in (".db3", ".mcap") and (p.parent / "metadata.yaml").exists():
        return p.parent
    if p.is_dir() and not (p / "metadata.yaml").exists():
        raise BagError(f"{p}: directory has no metadata.yaml, so it is not a rosbag2 bag (was the recording "
                       "interrupted before it was closed? `dsr-diff-replay --recover` reads it as it is, "
                       "`ros2 bag reindex` can rebuild it)")
    if p.is_file() and p.suffix != ".bag":
        raise BagError(f"{p}: not a bag (expected a rosbag2 directory or a ROS 1 .bag file)")
    return p


def _corrupt(path: Path, err: BaseException) -> BagError:
    fix = ("`dsr-diff-replay --recover` reads every intact message" if path.suffix != ".bag" else
           "--recover reads rosbag2 (mcap, sqlite3) only; rebuild a ROS 1 bag's index with `rosbag reindex` first")
    return BagError(f"{path}: corrupt or truncated bag ({type(err).__name__}: {err}); {fix}")


class _ReaderBase:
    """The surface shared by ``BagReader`` and ``recover.RecoveredReader``: context manager, ``describe``,
    ``connection``, ``message_count`` and ``deserialize`` over ``self.topics`` / ``self._conns``.

    Subclasses set ``path``, ``topics`` and ``_conns``, and implement ``_decode(raw, msgtype)`` and ``messages``."""

    _NO_TOPICS = "  (the bag has no topics)"  # what ``describe`` says for a reader without topics

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass

    def describe(self) -> str:
        """Human-readable list of the topics of the bag (for error messages)."""
        if not self.topics:
            return self._NO_TOPICS
        return "\n".join(f"  {t.name}  [{t.msgtype}]  {t.count} msgs" for t in self.topics.values())

    def connection(self, topic: str):
        return self._conns[topic]

    @property
    def message_count(self) -> int:
        return sum(t.count for t in self.topics.values())

    def _decode(self, raw: bytes, msgtype: str):
        raise NotImplementedError

    def deserialize(self, topic: str, raw: bytes):
        """Raw bytes of ``topic`` -> message object (rosbags dataclass)."""
        try:
            return self._decode(raw, self._conns[topic].msgtype)
        except Exception as e:
            raise BagError(f"{self.path}: message on {topic} cannot be decoded ({e})") from None


class BagReader(_ReaderBase):
    """Read any rosbag (ROS 1 or rosbag2 sqlite3/mcap). Use as a context manager."""

    def __init__(self, path: str | Path):
        self.path = _bag_path(path)
        default = get_typestore(Stores.ROS1_NOETIC if self.path.suffix == ".bag" else OUTPUT_STORE)
        try:
            self._reader = AnyReader([self.path], default_typestore=default)
            self._reader.open()
        except BagError:
            raise
        except Exception as e:  # rosbags raises many types for broken files
            raise _corrupt(self.path, e) from None
        self.is_ros2 = self._reader.is2
        self.typestore = self._reader.typestore
        self._conns = {c.topic: c for c in self._reader.connections}
        counts: dict[str, int] = {}
        for c in self._reader.connections:
            counts[c.topic] = counts.get(c.topic, 0) + c.msgcount
        self.topics = {t: TopicInfo(t, c.msgtype, counts[t]) for t, c in sorted(self._conns.items())}

    def close(self) -> None:
        try:
            self._reader.close()
        except Exception:
            pass

    def messages(self, topics: Iterable[str]) -> Iterator[tuple[str, int, bytes]]:
        """Yield (topic, log time ns, raw bytes) in time order; a read failure raises ``BagError``."""
        conns = [c for c in self._reader.connections if c.topic in set(topics)]
        if not conns:
            return
        it = self._reader.messages(connections=conns)
        while True:
            try:
                conn, t, raw = next(it)
            except StopIteration:
                return
            except (sqlite3.Error, EOFError, OSError, ValueError, AssertionError, KeyError) as e:
                raise _corrupt(self.path, e) from None
            except Exception as e:
                if type(e).__module__.startswith(("rosbags", "zstandard", "lz4", "mcap", "apsw")):
                    raise _corrupt(self.path, e) from None
                raise
            yield conn.topic, t, raw

    def _decode(self, raw: bytes, msgtype: str):
        return self._reader.deserialize(raw, msgtype)


class BagWriter:
    """Write a rosbag2 (``storage`` "sqlite3" or "mcap") with the ROS 2 typestore.

    The bag is closed (metadata written) on ``close()``/context exit whatever happened, so an
    interrupted run leaves a readable bag with everything written so far.
    """

    def __init__(self, path: str | Path, storage: str = "mcap", overwrite: bool = False):
        self.path = Path(path)
        if storage not in ("sqlite3", "mcap"):
            raise ValueError(f"storage must be 'sqlite3' or 'mcap', got {storage!r}")
        if self.path.exists():
            if not overwrite:
                raise BagError(f"{self.path}: output exists (choose another path or pass --overwrite)")
            _remove_bag(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.storage = storage
        self.typestore = get_typestore(OUTPUT_STORE)
        self.stats_msgtype = register_stats_type(self.typestore)
        plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
        self._w = Writer(self.path, version=9, storage_plugin=plugin)
        self._w.open()
        self._conns: dict[str, object] = {}
        self.counts: dict[str, int] = {}
        self._migrate_cache: dict = {}
        self.closed = False

    def __enter__(self) -> "BagWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def msgclass(self, msgtype: str):
        """Message class of the output typestore, e.g. ``msgclass("sensor_msgs/msg/Image")``."""
        return self.typestore.types[msgtype]

    def _conn(self, topic: str, msgtype: str, msgdef: Optional[str] = None, digest: Optional[str] = None):
        c = self._conns.get(topic)
        if c is None:
            kw = {"msgdef": msgdef, "rihs01": digest} if msgdef and digest else {"typestore": self.typestore}
            c = self._conns[topic] = self._w.add_connection(topic, msgtype, **kw)
            self.counts[topic] = 0
        elif c.msgtype != msgtype:
            raise BagError(f"{topic}: already written as {c.msgtype}, cannot write {msgtype}")
        return c

    def write(self, topic: str, msg, stamp_ns: int, msgtype: Optional[str] = None) -> None:
        """Serialise ``msg`` (a class from ``msgclass``) and write it at log time ``stamp_ns``."""
        msgtype = msgtype or msg.__msgtype__
        c = self._conn(topic, msgtype)
        self._w.write(c, int(stamp_ns), self.typestore.serialize_cdr(msg, msgtype))
        self.counts[topic] += 1

    def write_raw(self, topic: str, msgtype: str, data: bytes, stamp_ns: int) -> None:
        """Write already serialised CDR bytes of ``msgtype`` (output typestore definition)."""
        c = self._conn(topic, msgtype)
        self._w.write(c, int(stamp_ns), data)
        self.counts[topic] += 1

    def copy(self, reader: BagReader, topic: str, raw: bytes, stamp_ns: int, out_topic: Optional[str] = None,
             msg=None) -> None:
        """Copy an input message: raw CDR for ROS 2 inputs, migrated ROS 1 -> ROS 2 otherwise."""
        src = reader.connection(topic)
        out_topic = out_topic or topic
        if reader.is_ros2:
            c = self._conn(out_topic, src.msgtype, src.msgdef.data or None, src.digest or None)
            self._w.write(c, int(stamp_ns), raw)
        else:
            from rosbags.convert.converter import migrate_message

            msg = msg if msg is not None else reader.deserialize(topic, raw)
            m2 = migrate_message(reader.typestore, self.typestore, src.msgtype, src.msgtype, self._migrate_cache, msg)
            c = self._conn(out_topic, src.msgtype)
            self._w.write(c, int(stamp_ns), self.typestore.serialize_cdr(m2, src.msgtype))
        self.counts[out_topic] += 1

    def close(self) -> None:
        """Write the metadata and close the storage (idempotent)."""
        if not self.closed:
            self.closed = True
            self._w.close()


def _remove_bag(path: Path) -> None:
    """Remove an earlier output bag (a rosbag2 directory we recognise, or a single file)."""
    import shutil

    if path.is_dir():
        if not ((path / "metadata.yaml").exists() or any(path.glob("*.db3")) or any(path.glob("*.mcap"))
                or not any(path.iterdir())):
            raise BagError(f"{path}: exists and does not look like a bag; refusing to delete it")
        shutil.rmtree(path)
    else:
        path.unlink()
