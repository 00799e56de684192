"""A durable local spool: records appended to segment files, deleted once delivered.

The writer appends each record with one `write` to the current segment, so a record is in the
operating system's hands (it survives the process being killed) before `append` returns;
`sync` makes it survive a power cut too, and is meant to run every few milliseconds for all the
records written since the last call (group commit). A reader walks the segments in order and
hands out batches; `delivered` counts them off, and a segment that is complete (no longer
written to) and fully delivered is deleted. A process that restarts finds the segments left
over, drops a torn record at the end of the last one, and delivers everything again: delivery
is at least once, so records carry a 16-byte id the receiver can deduplicate on.

Segment record: u32 body length, u32 CRC-32 of the body, body = 16-byte id + payload.

`Journal` is the companion for work in progress: `begin` notes a record that must exist if the
process dies before `end`, and a restarted process learns which ones never ended.

Several processes can share one spool directory through slots: each takes the first
`<directory>/<n>` whose lock is free, so a process that replaces a dead one takes over its slot
and delivers what it left. Segments of the single-directory layout (files directly in
`<directory>`) are moved into the slot of the first process that can lock the directory itself.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import time
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("ias.spool")

HEADER = struct.Struct("<II")
ID_BYTES = 16
SUFFIX = ".seg"
READ_CHUNK_BYTES = 4 * 1024 * 1024
MAX_SLOTS = 64
# Append times are noted at most this often (coarser once many are outstanding): the publish
# lag is known to about this precision, for a few bytes per interval.
STAMP_SECONDS = 0.01
STAMP_SECONDS_BACKLOG = 1.0
STAMPS_BEFORE_BACKLOG = 10_000


class SpoolError(Exception):
    """The spool directory cannot be used (locked by another process, not writable)."""


class SpoolInUse(SpoolError):
    """Another process holds the spool directory's lock."""


def frame(record_id: bytes, payload: bytes) -> bytes:
    if len(record_id) != ID_BYTES:
        raise ValueError(f"a spool record id is {ID_BYTES} bytes, got {len(record_id)}")
    body = record_id + payload
    return HEADER.pack(len(body), zlib.crc32(body)) + body


def unframe(data: bytes | memoryview, offset: int = 0) -> Iterator[tuple[int, bytes, bytes]]:
    """(end offset, id, payload) of each whole, intact record from `offset`; stops at the first
    torn or damaged one."""
    view = memoryview(data)
    while offset + HEADER.size <= len(view):
        length, crc = HEADER.unpack_from(view, offset)
        start, end = offset + HEADER.size, offset + HEADER.size + length
        if length < ID_BYTES or end > len(view):
            return
        body = bytes(view[start:end])
        if zlib.crc32(body) != crc:
            return
        offset = end
        yield end, body[:ID_BYTES], body[ID_BYTES:]


def lock_directory(directory: Path) -> int:
    """Create `directory` and hold its lock for this process's lifetime; returns the lock's fd."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise SpoolError(f"cannot use the spool directory {directory}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SpoolInUse(
            f"the spool directory {directory} is in use by another process; give each "
            "process its own directory"
        ) from None
    return fd


def lock_slot(root: Path, slots: int = MAX_SLOTS) -> tuple[Path, int]:
    """The first `root/<n>` (n < `slots`) this process can lock: (its path, the lock's fd)."""
    for number in range(slots):
        directory = root / str(number)
        try:
            return directory, lock_directory(directory)
        except SpoolInUse:
            continue
    raise SpoolError(
        f"all {slots} slots of the spool directory {root} are in use; run fewer processes "
        "on it or give some of them their own directory"
    )


def _adopt_single_layout(root: Path, directory: Path) -> int:
    """Lock `root` itself, if no other process holds it, and move the segments it holds (the
    single-directory layout) into `directory`; returns the lock's fd, or -1."""
    try:
        fd = lock_directory(root)
    except SpoolInUse:
        return -1  # another slot's process, or one of the single-directory layout, holds it
    left = sorted(root.glob(f"*{SUFFIX}"))
    following = max((int(path.stem) for path in directory.glob(f"*{SUFFIX}")), default=0)
    for path in left:
        following += 1
        path.rename(directory / f"{following:020d}{SUFFIX}")
    if left:
        logger.info("spool: took over %d segments left in %s", len(left), root)
    return fd


@dataclass(slots=True)
class _Segment:
    number: int
    path: Path
    records: int = 0
    delivered: int = 0
    size: int = 0
    complete: bool = False
    opened_at: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class Batch:
    payloads: list[bytes]
    per_segment: dict[int, int]  # records of this batch in each segment
    first: int = 0  # the number of its first record, counted in the order records are read


class Spool:
    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int,
        segment_bytes: int = 16 * 1024 * 1024,
        segment_seconds: float = 5.0,
        slots: int = 0,
    ) -> None:
        """`slots` > 0: use the first free `directory/<n>`, n < slots, rather than `directory`."""
        self.root = directory
        self.directory = directory
        self.max_bytes = max_bytes
        self._slots = slots
        # Small enough against the limit that delivered segments free room in good time.
        self._segment_bytes = min(segment_bytes, max(max_bytes // 16, 64 * 1024))
        self._segment_seconds = segment_seconds
        self._segments: dict[int, _Segment] = {}
        self._current: _Segment | None = None
        self._fd = -1
        self._dirty = False
        self._size = 0
        # The reader's position: a segment number and an offset into it.
        self._read_segment = 0
        self._read_offset = 0
        self._lock_fd = -1
        self._root_lock_fd = -1
        self._last_number = 0
        # Records are numbered in order; these give the publish lag (`oldest_age`).
        self._appended = 0  # records numbered so far (left over first, then appended)
        self._handed_out = 0  # records handed out in batches
        self._unconfirmed: dict[int, int] = {}  # first record → size, of batches handed out
        self._stamps: deque[tuple[int, float]] = deque()  # (record, appended no earlier than)

    @property
    def size(self) -> int:
        """Bytes on disk, delivered or not, in segments not yet deleted."""
        return self._size

    @property
    def holds_root(self) -> bool:
        """A slotted spool that also holds the lock of the directory its slots are in."""
        return self._root_lock_fd >= 0

    @property
    def full(self) -> bool:
        return self._size >= self.max_bytes

    @property
    def pending(self) -> int:
        """Records written and not yet delivered."""
        return sum(segment.records - segment.delivered for segment in self._segments.values())

    def open(self) -> set[bytes]:
        """Lock the directory and take over what a previous process left; returns its ids."""
        if self._slots:
            self.directory, self._lock_fd = lock_slot(self.root, self._slots)
            self._root_lock_fd = _adopt_single_layout(self.root, self.directory)
        else:
            self._lock_fd = lock_directory(self.directory)
        found: set[bytes] = set()
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            segment = _Segment(int(path.stem), path, complete=True)
            data = path.read_bytes()
            for segment.size, record_id, _ in unframe(data):
                found.add(record_id)
                segment.records += 1
            if segment.size < len(data):
                logger.warning(
                    "spool segment %s ends with %d damaged or torn bytes (a crash mid-write); "
                    "dropping them",
                    path.name,
                    len(data) - segment.size,
                )
                os.truncate(path, segment.size)
            if segment.records == 0:
                path.unlink()
                continue
            self._segments[segment.number] = segment
            self._size += segment.size
        self._read_segment = min(self._segments, default=0)
        # New segments follow the leftovers, even once those are delivered and deleted.
        self._last_number = max(self._segments, default=0)
        if self._segments:
            logger.info("spool: %d records left by the last run will be delivered", len(found))
            self._note_leftovers()
        return found

    def _note_leftovers(self) -> None:
        self._appended = sum(segment.records for segment in self._segments.values())
        oldest = self._segments[self._read_segment].path.stat().st_mtime
        waited = max(0.0, time.time() - oldest)  # at least: its last record was written then
        self._stamps.append((0, time.monotonic() - waited))

    def append(self, record_id: bytes, payload: bytes) -> None:
        data = frame(record_id, payload)
        now = time.monotonic()
        segment = self._current
        if segment is None or self._should_rotate(segment, now):
            segment = self._rotate()
        written = os.write(self._fd, data)
        if written != len(data):  # a full disk; the record is torn and will be dropped
            raise OSError(f"short write to the spool ({written} of {len(data)} bytes)")
        segment.size += written
        segment.records += 1
        self._size += written
        self._dirty = True
        stamps = self._stamps
        spacing = STAMP_SECONDS if len(stamps) < STAMPS_BEFORE_BACKLOG else STAMP_SECONDS_BACKLOG
        if not stamps or now - stamps[-1][1] >= spacing:
            stamps.append((self._appended, now))
        self._appended += 1

    def _should_rotate(self, segment: _Segment, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return (
            segment.size >= self._segment_bytes or now - segment.opened_at >= self._segment_seconds
        )

    def oldest_age(self) -> float:
        """Seconds since the oldest record not yet delivered was appended (0.0 if none), to
        about `STAMP_SECONDS`; never less than the truth."""
        oldest = min(self._unconfirmed, default=self._handed_out)
        if oldest >= self._appended:
            return 0.0
        stamps = self._stamps
        while len(stamps) > 1 and stamps[1][0] <= oldest:
            stamps.popleft()
        return max(0.0, time.monotonic() - stamps[0][1]) if stamps else 0.0

    def _rotate(self) -> _Segment:
        self._complete_current()
        # Numbers only grow, even when every segment has been deleted: the reader is past them.
        self._last_number = number = max(self._last_number, *self._segments, 0) + 1
        segment = _Segment(number, self.directory / f"{number:020d}{SUFFIX}")
        self._fd = os.open(segment.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._segments[number] = segment
        self._current = segment
        if self._read_segment == 0:
            self._read_segment = number
        return segment

    def _complete_current(self) -> None:
        segment = self._current
        if segment is None:
            return
        if self._dirty:
            os.fsync(self._fd)
            self._dirty = False
        os.close(self._fd)
        self._fd = -1
        self._current = None
        segment.complete = True
        self._forget_if_done(segment)

    def rotate_if_due(self) -> None:
        """Complete an idle current segment, so that delivered records get deleted."""
        segment = self._current
        if segment is not None and segment.records and self._should_rotate(segment):
            self._complete_current()

    def sync(self) -> None:
        """Make every record appended so far survive a power cut."""
        if self._dirty and self._fd >= 0:
            self._dirty = False
            os.fsync(self._fd)

    def read_batch(self, max_records: int) -> Batch | None:
        """The next records after the last batch handed out, or None when there are none."""
        payloads: list[bytes] = []
        per_segment: dict[int, int] = {}
        while len(payloads) < max_records:
            segment = self._segments.get(self._read_segment)
            if segment is None:
                break
            if self._read_offset >= segment.size:
                if not segment.complete:
                    break  # caught up with the writer
                self._next_segment()
                continue
            took = self._read_from(segment, max_records - len(payloads), payloads)
            per_segment[segment.number] = per_segment.get(segment.number, 0) + took
        if not payloads:
            return None
        batch = Batch(payloads, per_segment, self._handed_out)
        self._unconfirmed[batch.first] = len(payloads)
        self._handed_out += len(payloads)
        return batch

    def _read_from(self, segment: _Segment, limit: int, payloads: list[bytes]) -> int:
        span = min(segment.size - self._read_offset, READ_CHUNK_BYTES)
        data = _read_at(segment.path, self._read_offset, span)
        took = consumed = 0
        for end, _, payload in unframe(data):
            payloads.append(payload)
            took, consumed = took + 1, end
            if took >= limit:
                break
        if took == 0 and len(data) >= HEADER.size:
            # One record larger than the chunk: read exactly that record.
            length, _ = HEADER.unpack_from(data)
            data = _read_at(segment.path, self._read_offset, HEADER.size + length)
            for end, _, payload in unframe(data):
                payloads.append(payload)
                took, consumed = 1, end
                break
        if took == 0:
            raise OSError(f"spool segment {segment.path.name} is damaged at {self._read_offset}")
        self._read_offset += consumed
        return took

    def _next_segment(self) -> None:
        later = [number for number in self._segments if number > self._read_segment]
        self._read_segment = min(later, default=self._read_segment + 1)
        self._read_offset = 0

    def delivered(self, batch: Batch) -> None:
        self._unconfirmed.pop(batch.first, None)
        for number, count in batch.per_segment.items():
            segment = self._segments.get(number)
            if segment is not None:
                segment.delivered += count
                self._forget_if_done(segment)
        current = self._current
        if self.full and current is not None and current.delivered >= current.records:
            self._complete_current()  # free the room now rather than at the next rotation

    def _forget_if_done(self, segment: _Segment) -> None:
        if segment.complete and segment.delivered >= segment.records:
            segment.path.unlink(missing_ok=True)
            del self._segments[segment.number]
            self._size -= segment.size
            if self._read_segment == segment.number:
                self._next_segment()

    def close(self) -> None:
        self._complete_current()  # deleted if everything in it was delivered
        for fd in (self._lock_fd, self._root_lock_fd):
            if fd >= 0:
                os.close(fd)
        self._lock_fd = self._root_lock_fd = -1


def _read_at(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as file:
        file.seek(offset)
        return file.read(size)


class Journal:
    """Records begun and not yet ended, kept in one append-only file, compacted as it grows."""

    _BEGIN, _END = b"B", b"E"

    def __init__(self, path: Path, *, compact_bytes: int = 4 * 1024 * 1024) -> None:
        self.path = path
        self._compact_bytes = compact_bytes
        self._open: dict[bytes, bytes] = {}
        self._fd = -1
        self._size = 0
        self._dirty = False

    def recover(self) -> dict[bytes, bytes]:
        """What the last process began and never ended (the file is left as it is)."""
        unfinished: dict[bytes, bytes] = {}
        if self.path.exists():
            for _, record_id, payload in unframe(self.path.read_bytes()):
                if payload[:1] == self._BEGIN:
                    unfinished[record_id] = payload[1:]
                else:
                    unfinished.pop(record_id, None)
        return unfinished

    def start(self) -> None:
        """Begin a fresh journal; call once what `recover` returned is safe elsewhere."""
        self._rewrite()

    def begin(self, record_id: bytes, payload: bytes) -> None:
        self._open[record_id] = payload
        self._write(frame(record_id, self._BEGIN + payload))

    def end(self, record_id: bytes) -> None:
        if self._open.pop(record_id, None) is None:
            return
        self._write(frame(record_id, self._END))
        if self._size >= self._compact_bytes:
            self._rewrite()

    def _write(self, data: bytes) -> None:
        self._size += os.write(self._fd, data)
        self._dirty = True

    def _rewrite(self) -> None:
        """Replace the file with one holding only what is still open (atomically)."""
        fresh = self.path.with_suffix(".new")
        data = b"".join(frame(rid, self._BEGIN + payload) for rid, payload in self._open.items())
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        os.write(fd, data)
        os.fsync(fd)
        os.replace(fresh, self.path)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd, self._size, self._dirty = fd, len(data), False

    def sync(self) -> None:
        if self._dirty and self._fd >= 0:
            self._dirty = False
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1
