"""Record-by-record scanners of damaged rosbag2 storage files (power lost mid-recording): what ``mcap recover``
and ``ros2 bag reindex`` do, without the index, footer or metadata.yaml.

* MCAP: records are framed ``opcode u8 | length u64 | body``; the scan walks them from the start, parses
  Schema/Channel/Message bodies with the ``mcap`` package's record classes, opens Chunks (none/zstd/lz4; the
  last, cut chunk is decompressed as far as it goes) and stops at the first record that does not fit in the
  file or does not parse. Only messages whose record is entirely in the file are yielded.
* sqlite3: the header's page count is set to the pages actually present (a copy in a temporary file), then
  every row id is read on its own, so one unreadable page loses only the rows stored on it.

Both yield ``("schema", name, encoding, text)``, ``("channel", id, topic, msgtype, serialization)`` and
``("message", channel id, log time ns, bytes)``, and fill a ``Damage`` record (bytes used, where it stopped).
"""
from __future__ import annotations

import io
import os
import sqlite3
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from mcap.data_stream import ReadDataStream
from mcap.records import Channel, Message, Schema

try:  # as rosbags does: Python 3.14 stdlib, else the backport
    from compression import zstd
except ImportError:  # pragma: no cover (depends on the Python version)
    from backports import zstd
import lz4.frame  # a dependency of rosbags and mcap (their readers open lz4 chunks too)

MAGIC = b"\x89MCAP0\r\n"
OP_SCHEMA, OP_CHANNEL, OP_MESSAGE, OP_CHUNK, OP_FOOTER, OP_DATA_END = 0x03, 0x04, 0x05, 0x06, 0x02, 0x0F
MAX_RECORD = 1 << 32  # 4 GiB: a longer length field is garbage


@dataclass
class Damage:
    """Where a scan stopped: ``stop_offset`` (bytes of the file used), ``reason`` (None: the file is complete),
    ``last_ns`` the log time of the last message yielded, ``unreadable`` rows/records skipped inside."""

    path: str
    size: int
    stop_offset: int = 0
    reason: Optional[str] = None
    last_ns: Optional[int] = None
    unreadable: int = 0
    notes: list = field(default_factory=list)


def _records(buf: bytes, start: int, end: int, dmg: Damage, partial_ok: bool) -> Iterator[tuple[int, bytes, int]]:
    """(opcode, body, end offset) of the complete records in ``buf[start:end]``; sets ``dmg`` where it stops."""
    pos = start
    while pos < end:
        if end - pos < 9:
            dmg.reason = dmg.reason or f"record header cut at byte {pos}"
            return
        op, length = buf[pos], struct.unpack_from("<Q", buf, pos + 1)[0]
        if op == 0 or length > MAX_RECORD:
            dmg.reason = dmg.reason or f"garbage record (opcode {op:#x}, length {length}) at byte {pos}"
            return
        if pos + 9 + length > end:
            if not partial_ok:
                dmg.reason = dmg.reason or (f"record (opcode {op:#x}) at byte {pos} needs {length} bytes, "
                                            f"{end - pos - 9} left")
                return
            yield op, buf[pos + 9:end], -1  # the caller decides whether a cut record is usable (chunks)
            return
        yield op, buf[pos + 9:pos + 9 + length], pos + 9 + length
        pos += 9 + length


def _chunk_records(body: bytes, complete: bool, dmg: Damage) -> Optional[bytes]:
    """Uncompressed records of a Chunk body (all of them, or as many as a cut chunk holds)."""
    hdr = 8 + 8 + 8 + 4
    if len(body) < hdr + 4:
        return None
    size, crc = struct.unpack_from("<QI", body, 16)
    n = struct.unpack_from("<I", body, hdr)[0]
    compression = body[hdr + 4:hdr + 4 + n].decode("utf-8", "replace")
    off = hdr + 4 + n + 8
    data = body[off:]
    if compression == "":
        out = data
    elif compression in ("zstd", "lz4"):
        try:  # streaming decompressors return what a cut frame holds
            if compression == "zstd":
                out = zstd.ZstdDecompressor().decompress(data) if not complete else zstd.decompress(data)
            else:
                out = lz4.frame.LZ4FrameDecompressor().decompress(data) if not complete else \
                    lz4.frame.decompress(data)
        except Exception as e:  # a damaged frame
            dmg.notes.append(f"{compression} chunk not decodable: {e}")
            return None
    else:
        dmg.notes.append(f"chunk compression {compression!r} not supported by the recovery")
        return None
    if complete and crc and zlib.crc32(out) != crc:
        dmg.notes.append("chunk CRC mismatch: chunk skipped")
        return None
    return out if complete else out[:size]


def _parse(op: int, body: bytes):
    s = ReadDataStream(io.BytesIO(body))
    if op == OP_SCHEMA:
        r = Schema.read(s)
        return ("schema", r.id, r.name, r.encoding, r.data.decode("utf-8", "replace"))
    if op == OP_CHANNEL:
        r = Channel.read(s)
        return ("channel", r.id, r.topic, r.schema_id, r.message_encoding)
    if op == OP_MESSAGE:
        if len(body) < 22:
            raise ValueError("message record shorter than its header")
        cid, _seq, log_time = struct.unpack_from("<HIQ", body, 0)
        return ("message", cid, log_time, body[22:])
    return None


def scan_mcap(path: str | Path, dmg: Damage) -> Iterator[tuple]:
    """Schemas, channels and complete messages of a (possibly cut) MCAP file, in file order."""
    buf = Path(path).read_bytes()
    dmg.size = len(buf)
    if not buf.startswith(MAGIC):
        dmg.reason = "no MCAP magic at the start (not an MCAP file)"
        return
    schemas: dict[int, str] = {}
    for op, body, end in _records(buf, len(MAGIC), len(buf), dmg, partial_ok=True):
        if op in (OP_FOOTER, OP_DATA_END):
            dmg.stop_offset = len(buf)
            return
        if op == OP_CHUNK:
            inner = _chunk_records(body, end >= 0, dmg)
            if inner is None:
                if end >= 0:
                    dmg.unreadable += 1
                    dmg.stop_offset = end
                    continue
                return
            sub = Damage(dmg.path, len(inner))
            for iop, ibody, iend in _records(inner, 0, len(inner), sub, partial_ok=False):
                yield from _emit(iop, ibody, schemas, dmg)
            if end < 0:
                dmg.reason = f"file ends inside the chunk starting near byte {dmg.stop_offset}; " \
                             f"its complete messages were kept"
                return
        elif end < 0:
            dmg.reason = f"file ends inside a record (opcode {op:#x}) after byte {dmg.stop_offset}"
            return
        else:
            yield from _emit(op, body, schemas, dmg)
        dmg.stop_offset = end
    if dmg.reason is None and dmg.stop_offset < len(buf):
        dmg.reason = f"stopped at byte {dmg.stop_offset}"
    elif dmg.reason is None:
        dmg.reason = "file ends without the MCAP footer (recording not closed)"


def _emit(op, body, schemas, dmg):
    try:
        rec = _parse(op, body)
    except Exception as e:
        dmg.unreadable += 1
        dmg.notes.append(f"record {op:#x} not parseable: {e}")
        return
    if rec is None:
        return
    if rec[0] == "schema":
        schemas[rec[1]] = rec[2]
        yield ("schema", rec[2], rec[3], rec[4])
    elif rec[0] == "channel":
        yield ("channel", rec[1], rec[2], schemas.get(rec[3], ""), rec[4])
    else:
        dmg.last_ns = rec[2]
        yield rec


def _patched_copy(path: Path) -> tuple[Path, int]:
    """Copy of the database with whole pages only and the header's page count set to them."""
    data = path.read_bytes()
    if len(data) < 100 or not data.startswith(b"SQLite format 3\x00"):
        raise sqlite3.DatabaseError("not an SQLite database")
    ps = struct.unpack(">H", data[16:18])[0]
    ps = 65536 if ps == 1 else ps
    pages = len(data) // ps
    buf = bytearray(data[:pages * ps])
    buf[28:32] = struct.pack(">I", pages)
    fd, tmp = tempfile.mkstemp(suffix=".db3")
    with os.fdopen(fd, "wb") as f:
        f.write(buf)
    return Path(tmp), pages * ps


def scan_sqlite(path: str | Path, dmg: Damage, with_data: bool = True, max_gap: int = 2000) -> Iterator[tuple]:
    """Topics (as schema-less channels) and every readable message row of a (possibly cut) rosbag2 .db3, in
    log-time order. Row ids are probed one by one until ``max_gap`` ids in a row are missing or unreadable."""
    path = Path(path)
    dmg.size = path.stat().st_size
    try:
        tmp, used = _patched_copy(path)
    except (OSError, sqlite3.DatabaseError) as e:
        dmg.reason = f"not readable as SQLite ({e})"
        return
    try:
        con = sqlite3.connect(f"file:{tmp}?mode=ro", uri=True)
        # damaged text (a topic name with a flipped byte) must not stop the salvage: decode what is there
        con.text_factory = lambda b: b.decode("utf-8", "replace")
        try:
            topics = con.execute("SELECT id, name, type, serialization_format FROM topics").fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as e:   # the latter: a damaged schema (column names)
            dmg.reason = f"topics table unreadable ({e})"
            return
        for tid, name, typ, fmt in topics:
            yield ("channel", tid, name, typ, fmt)
        rows, rid, gap, bad_ids = [], 1, 0, []
        while gap < max_gap:
            try:
                r = con.execute("SELECT topic_id, timestamp, length(data), data FROM messages WHERE id=?",
                                (rid,)).fetchone()
            except (sqlite3.DatabaseError, UnicodeDecodeError):
                r = False
            if r:
                if len(r[3]) != r[2]:
                    r = False
                else:
                    rows.append((r[1], rid, r[0]))
                    gap = 0
            if not r:
                gap += 1
                if r is False:
                    bad_ids.append(rid)
            rid += 1
        last_good = max((x[1] for x in rows), default=0)
        dmg.unreadable = sum(1 for b in bad_ids if b < last_good)
        dmg.stop_offset = used
        if used < dmg.size or bad_ids:
            dmg.reason = (f"file cut at byte {dmg.size} ({dmg.size - used} bytes of a partial page dropped); "
                          f"rows after id {last_good} unreadable")
        for t, rid, tid in sorted(rows):
            if with_data:
                data = con.execute("SELECT data FROM messages WHERE id=?", (rid,)).fetchone()[0]
            else:
                data = b""
            dmg.last_ns = t
            yield ("message", tid, t, bytes(data))
        con.close()
    finally:
        tmp.unlink(missing_ok=True)
