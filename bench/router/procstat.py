"""CPU time and resident memory of a process and its descendants, read from /proc.

CPU time is utime + stime from `/proc/<pid>/stat` (clock ticks, usually 10 ms each), so a
phase must run long enough for the difference to be meaningful: seconds, not milliseconds.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_stat(text: str) -> tuple[int, int]:
    """(parent pid, utime + stime in clock ticks) from one `/proc/<pid>/stat` line.

    The command name (field 2) may contain spaces and parentheses, so fields are counted from
    the last closing parenthesis.
    """
    fields = text[text.rindex(")") + 2 :].split()
    # After the name: state, ppid, ..., utime is field 14 and stime 15 of the whole line.
    return int(fields[1]), int(fields[11]) + int(fields[12])


def parse_rss_kib(status: str) -> int:
    """VmRSS in KiB from the text of `/proc/<pid>/status` (0 for a zombie, which has none)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def process_tree(root: int) -> list[int]:
    """`root` and every live descendant (a proxy may run its workers as child processes)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        text = _read(entry / "stat")
        if text is not None:
            children.setdefault(parse_stat(text)[0], []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def cpu_seconds(root: int) -> float:
    """CPU seconds used so far by `root` and its live descendants."""
    ticks = 0
    for pid in process_tree(root):
        text = _read(PROC / str(pid) / "stat")
        if text is not None:
            ticks += parse_stat(text)[1]
    return ticks / CLOCK_TICKS


def rss_mb(root: int) -> float:
    """Resident memory of `root` and its live descendants, in MB (10^6 bytes)."""
    kib = 0
    for pid in process_tree(root):
        text = _read(PROC / str(pid) / "status")
        if text is not None:
            kib += parse_rss_kib(text)
    return kib * 1024 / 1e6
