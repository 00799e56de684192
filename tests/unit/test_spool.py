"""The durable spool: what is appended survives a kill, is handed out in order, and disappears
only once delivered; a torn tail is dropped, a second process is kept out."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ias.kit.spool import Batch, Journal, Spool, SpoolError, frame


def _id(n: int) -> bytes:
    return uuid.UUID(int=n).bytes


def _drain(spool: Spool, size: int = 1000) -> list[bytes]:
    out = []
    while (batch := spool.read_batch(size)) is not None:
        out += batch.payloads
        spool.delivered(batch)
    return out


def test_records_come_back_in_order_in_batches(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**9, segment_bytes=500)
    spool.open()
    for n in range(100):
        spool.append(_id(n), f"event {n}".encode())
    seen = []
    while (batch := spool.read_batch(7)) is not None:
        assert len(batch.payloads) <= 7
        seen += batch.payloads
    assert seen == [f"event {n}".encode() for n in range(100)]
    assert spool.pending == 100  # handed out is not delivered
    spool.close()


def test_delivered_segments_are_deleted_and_the_rest_is_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**9, segment_bytes=300)
    spool.open()
    for n in range(50):
        spool.append(_id(n), b"x" * 40)
    first = spool.read_batch(20)
    assert first is not None
    spool.delivered(first)
    assert spool.pending == 30
    assert len(list(tmp_path.glob("*.seg"))) < 50 * 60 // 300 + 1  # early segments are gone
    spool.close()
    again = Spool(tmp_path, max_bytes=10**9)
    found = again.open()
    # What was not confirmed comes back (whole segments: at least the 30, maybe a few more).
    assert {_id(n) for n in range(20, 50)} <= found
    assert len(_drain(again)) == len(found)
    again.close()
    assert list(tmp_path.glob("*.seg")) == []


def test_a_torn_last_record_is_dropped_and_the_rest_recovered(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**9)
    spool.open()
    for n in range(10):
        spool.append(_id(n), f"event {n}".encode())
    spool.close()
    (segment,) = tmp_path.glob("*.seg")
    with segment.open("ab") as file:
        file.write(frame(_id(99), b"half a record")[:-5])  # killed mid-write
    recovered = Spool(tmp_path, max_bytes=10**9)
    assert recovered.open() == {_id(n) for n in range(10)}
    assert _drain(recovered) == [f"event {n}".encode() for n in range(10)]
    recovered.close()


def test_a_damaged_record_ends_what_is_trusted(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**9)
    spool.open()
    for n in range(3):
        spool.append(_id(n), b"abcdef")
    spool.close()
    (segment,) = tmp_path.glob("*.seg")
    data = bytearray(segment.read_bytes())
    data[-2] ^= 0xFF  # a flipped bit in the last record
    segment.write_bytes(bytes(data))
    recovered = Spool(tmp_path, max_bytes=10**9)
    assert recovered.open() == {_id(0), _id(1)}
    recovered.close()


def test_it_is_full_at_its_size_limit(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1000)
    spool.open()
    while not spool.full:
        spool.append(_id(spool.pending), b"y" * 100)
    assert spool.size >= 1000
    spool.close()


def test_a_second_process_cannot_use_the_same_directory(tmp_path: Path) -> None:
    first = Spool(tmp_path, max_bytes=10**9)
    first.open()
    second = Spool(tmp_path, max_bytes=10**9)
    with pytest.raises(SpoolError, match="in use by another process"):
        second.open()
    first.close()
    second.open()
    second.close()


def test_an_unusable_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SpoolError, match="cannot use the spool directory"):
        Spool(blocker / "spool", max_bytes=10**9).open()


def test_a_huge_record_is_read_whole(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**9)
    spool.open()
    big = os.urandom(5 * 1024 * 1024)
    spool.append(_id(1), big)
    spool.append(_id(2), b"small")
    assert _drain(spool) == [big, b"small"]
    spool.close()


def test_the_journal_reports_what_never_ended(tmp_path: Path) -> None:
    path = tmp_path / "inflight.journal"
    journal = Journal(path, compact_bytes=2000)
    assert journal.recover() == {}
    journal.start()
    for n in range(100):
        journal.begin(_id(n), f"interrupted {n}".encode())
        if n % 10:
            journal.end(_id(n))
    # (killed here: no close)
    unfinished = Journal(path).recover()
    assert unfinished == {_id(n): f"interrupted {n}".encode() for n in range(0, 100, 10)}
    assert path.stat().st_size < 2000 + 200  # compacted as it grew


def test_writing_after_everything_was_delivered_is_read(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**9, segment_seconds=0.0)  # every append rotates
    spool.open()
    spool.append(_id(1), b"first")
    assert _drain(spool) == [b"first"]
    spool.rotate_if_due()  # the delivered segment is deleted: none is left
    assert list(tmp_path.glob("*.seg")) == []
    spool.append(_id(2), b"second")
    assert _drain(spool) == [b"second"]
    spool.close()


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(1, 5)),
        st.tuples(st.just("read"), st.integers(1, 7)),
        st.tuples(st.just("deliver"), st.integers(0, 3)),
        st.tuples(st.just("rotate"), st.just(0)),
        st.tuples(st.just("restart"), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(operations=OPERATIONS)
def test_nothing_appended_is_lost_whatever_the_order_of_events(
    tmp_path_factory: pytest.TempPathFactory, operations: list[tuple[str, int]]
) -> None:
    """Appends, reads, deliveries (in any order), rotations and restarts: every record is
    delivered at least once, and once all is delivered no segment is left on disk."""
    directory = tmp_path_factory.mktemp("spool")
    spool = Spool(directory, max_bytes=10**9, segment_bytes=200, segment_seconds=3600)
    spool.open()
    appended: list[bytes] = []
    delivered: set[bytes] = set()
    handed_out: list[tuple[Batch, list[bytes]]] = []
    for operation, amount in operations:
        if operation == "append":
            for _ in range(amount):
                payload = f"record {len(appended)}".encode()
                spool.append(_id(len(appended)), payload)
                appended.append(payload)
        elif operation == "read" and (batch := spool.read_batch(amount)) is not None:
            handed_out.append((batch, batch.payloads))
        elif operation == "deliver" and handed_out:
            batch, payloads = handed_out.pop(min(amount, len(handed_out) - 1))
            spool.delivered(batch)
            delivered.update(payloads)
        elif operation == "rotate":
            spool._complete_current()
        elif operation == "restart":  # handed out but unconfirmed batches are forgotten
            spool.close()
            spool = Spool(directory, max_bytes=10**9, segment_bytes=200, segment_seconds=3600)
            spool.open()
            handed_out.clear()
    for batch, payloads in handed_out:  # publishes in flight: the relay retries until confirmed
        spool.delivered(batch)
        delivered.update(payloads)
    remaining = _drain(spool)
    spool.close()
    assert set(appended) <= delivered | set(remaining), "a record was lost"
    assert len(remaining) == len(set(remaining)), "a record was handed out twice in one pass"
    assert list(directory.glob("*.seg")) == [], "everything was delivered, yet a segment is left"


def _slotted(root: Path) -> Spool:
    return Spool(root, max_bytes=10**9, slots=4)


def test_processes_sharing_a_directory_take_different_slots(tmp_path: Path) -> None:
    first, second = _slotted(tmp_path), _slotted(tmp_path)
    first.open()
    second.open()
    assert {first.directory, second.directory} == {tmp_path / "0", tmp_path / "1"}
    first.close()
    second.close()


def test_a_freed_slot_is_taken_again_and_its_leftovers_delivered(tmp_path: Path) -> None:
    first, second = _slotted(tmp_path), _slotted(tmp_path)
    first.open()
    second.open()
    second.append(_id(1), b"left by a worker that died")
    second.close()  # the process is gone; its slot's lock with it
    replacement = _slotted(tmp_path)
    assert replacement.open() == {_id(1)}
    assert replacement.directory == tmp_path / "1"
    assert _drain(replacement) == [b"left by a worker that died"]
    replacement.close()
    first.close()


def test_every_slot_in_use_is_an_error(tmp_path: Path) -> None:
    spools = [Spool(tmp_path, max_bytes=10**9, slots=2) for _ in range(3)]
    spools[0].open()
    spools[1].open()
    with pytest.raises(SpoolError, match="all 2 slots"):
        spools[2].open()
    spools[0].close()
    spools[1].close()


def test_segments_of_the_single_directory_layout_move_into_a_slot(tmp_path: Path) -> None:
    legacy = Spool(tmp_path, max_bytes=10**9)
    legacy.open()
    legacy.append(_id(1), b"written before slots")
    legacy.close()
    spool = _slotted(tmp_path)
    assert spool.open() == {_id(1)}
    assert spool.holds_root
    assert list(tmp_path.glob("*.seg")) == []
    assert _drain(spool) == [b"written before slots"]
    spool.close()


def test_segments_after_delivered_leftovers_are_read(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**9)
    spool.open()
    spool.append(_id(1), b"left over")
    spool.close()
    spool = Spool(tmp_path, max_bytes=10**9)
    spool.open()
    assert _drain(spool) == [b"left over"]  # its segment is deleted
    spool.append(_id(2), b"after")  # a new segment, numbered after the deleted one
    assert _drain(spool) == [b"after"]
    spool.close()


def test_the_oldest_undelivered_record_gives_the_lag(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**9)
    spool.open()
    assert spool.oldest_age() == 0.0
    spool.append(_id(1), b"old")
    time.sleep(0.1)
    spool.append(_id(2), b"new")
    old, new = spool.read_batch(1), spool.read_batch(1)
    assert old is not None
    assert new is not None
    spool.delivered(new)  # confirmed out of order: the old one still waits
    assert spool.oldest_age() >= 0.1
    spool.delivered(old)
    assert spool.oldest_age() == 0.0
    spool.append(_id(3), b"newest")
    assert 0.0 <= spool.oldest_age() < 0.05
    spool.close()
