"""vLLM on the CPU, direct and through the IAS router (`python -m bench.vllm`)."""
