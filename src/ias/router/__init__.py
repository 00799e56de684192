"""The data plane: the OpenAI-compatible `/v1` router (`ias serve router`)."""
