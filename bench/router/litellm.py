"""The optional LiteLLM proxy arm: a LiteLLM installed in its own virtualenv, never in ours.

Pinned version and setup are in `bench/README.md` (`make bench-litellm` installs it from
requirements/litellm.lock). The proxy runs one worker on the router's core, with no callbacks,
in front of the same mock engine, checking a static master key. It must not reach the network:
the price list is its local copy and telemetry is off (`bench/router/offline.py` checks).
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import orjson

from bench.router.config import MODEL
from bench.router.processes import ROUTER_CORE, Pinning, Server, free_port

STARTUP_SECONDS = 180.0  # it imports a great deal before it listens
# Uvicorn's access log off, as every other arm runs with warnings only (the router and the
# engine with IAS_LOG_LEVEL=WARNING): a line written per request is CPU the others do not spend.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"uvicorn.access": {"level": "WARNING"}},
}
_PRINT_VERSION = "import importlib.metadata as m; print(m.version('litellm'))"


def config_yaml(engine_url: str, master_key: str) -> str:
    return f"""\
model_list:
  - model_name: {MODEL}
    litellm_params:
      model: openai/{MODEL}
      api_base: {engine_url}/v1
      api_key: unused
litellm_settings:
  callbacks: []
  success_callback: []
  failure_callback: []
  telemetry: false
general_settings:
  master_key: {master_key}
"""


def litellm_server(bin_dir: Path, engine_url: str, workdir: Path, pinning: Pinning) -> Server:
    executable = bin_dir / "litellm"
    if not executable.exists():
        raise SystemExit(f"--litellm: no `litellm` executable in {bin_dir}")
    master_key = "sk-bench-" + secrets.token_hex(16)
    config = workdir / "litellm.yaml"
    config.write_text(config_yaml(engine_url, master_key))
    log_config = workdir / "litellm-logging.json"
    log_config.write_bytes(orjson.dumps(LOG_CONFIG))
    port = free_port()
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no download of the price list at startup
        "LITELLM_LOG": "ERROR",
        "LITELLM_MASTER_KEY": master_key,
    }
    command = [*pinning.prefix(ROUTER_CORE), str(executable), "--config", str(config)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    command += ["--log_config", str(log_config)]
    return Server("litellm", command, env, workdir / "litellm.log", f"http://127.0.0.1:{port}")


def version(bin_dir: Path) -> str:
    """The LiteLLM version installed in that virtualenv (from its package metadata)."""
    done = subprocess.run(
        [str(bin_dir / "python"), "-c", _PRINT_VERSION],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"
