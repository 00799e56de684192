"""`ias up` as a newcomer runs it: a fresh IAS_HOME, a free port, no IAS_* variables."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers import free_port

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 30.0


@dataclass(frozen=True)
class Up:
    url: str
    admin_password: str
    env: dict[str, str]  # what a second terminal in the same folder has


@contextlib.contextmanager
def ias_up(workdir: Path) -> Iterator[Up]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("IAS_")}
    env["IAS_HOME"] = str(workdir / "home")
    log_path = workdir / "up.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(BIN / "ias"), "up", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                assert process.poll() is None, log_path.read_text()
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                        break
                assert time.monotonic() < deadline, "ias up did not become ready"
                time.sleep(0.2)
            match = re.search(r"password\s+(\S{20,})", log_path.read_text())
            assert match is not None, log_path.read_text()
            yield Up(url, match.group(1), env)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
