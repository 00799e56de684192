"""Starting the servers under test as separate processes, pinned to a core when possible."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROUTER_CORE = 0
CLIENT_CORE = 1  # the mock engine and every load generator


@dataclass(frozen=True, slots=True)
class Pinning:
    """`taskset` prefixes: the router alone on one core, everything else on the other."""

    enabled: bool
    reason: str

    @classmethod
    def detect(cls) -> Pinning:
        if shutil.which("taskset") is None:
            return cls(False, "taskset not found: every process ran unpinned")
        if len(os.sched_getaffinity(0)) < 2 or not {0, 1} <= os.sched_getaffinity(0):
            return cls(False, "fewer than 2 usable cores: every process ran unpinned")
        return cls(True, "router on core 0; mock engine and load generators on core 1")

    def prefix(self, core: int) -> list[str]:
        return ["taskset", "-c", str(core)] if self.enabled else []

    def pin_self(self) -> None:
        """The orchestrating process mostly waits, but it must not wake up on the router's core."""
        if self.enabled:
            os.sched_setaffinity(0, {CLIENT_CORE})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_command(name: str) -> str:
    """A console script of the interpreter running the benchmark (the project's virtualenv)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"`{name}` is not installed next to {sys.executable} or on PATH")
    return found


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    url: str
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} was not started")
        return self.process.pid

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO
            )

    def wait_until_healthy(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited during startup:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise SystemExit(
            f"{self.name} did not answer {path} within {timeout:g} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
