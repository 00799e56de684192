"""What the benchmark ran on and how it was started: for the report and bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from pathlib import Path

from bench.router.processes import REPO


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def ram_gib() -> float:
    """Total memory from /proc/meminfo (in KiB there), in GiB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


def describe() -> dict[str, str | int | float]:
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count() or 0,
        "ram_gib": round(ram_gib(), 1),
        "kernel": f"Linux {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load_average": ", ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def relative(argument: str, root: Path = REPO) -> str:
    """An argument that is a path inside the checkout, written relative to it (so that no
    machine's own paths end up in a report); anything else unchanged."""
    if not argument.startswith("/"):
        return argument
    path = Path(argument)
    return str(path.relative_to(root)) if path.is_relative_to(root) else argument


def command(argv: list[str] | None = None) -> str:
    """The command line that started this run, as it would be typed in the checkout."""
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", "-m", "bench.router", *(relative(arg) for arg in args)])
