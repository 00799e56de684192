"""The built-in vLLM look-alike engine (`ias serve mock-engine` and the demo models)."""
