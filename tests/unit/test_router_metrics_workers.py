"""Several worker processes: a replacement worker drops the live gauges a dead one left, and
keeps those of workers still running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ias.server import forget_dead_workers


def test_a_dead_workers_live_gauges_are_dropped(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    dead, alive = int(gone.stdout), os.getpid()
    for name in (f"gauge_livesum_{dead}.db", f"gauge_livesum_{alive}.db", f"counter_{dead}.db"):
        (tmp_path / name).write_bytes(b"")
    forget_dead_workers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"counter_{dead}.db",
        f"gauge_livesum_{alive}.db",
    ]
