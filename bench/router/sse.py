"""Reading a chat completion's server-sent events the way a client sees them."""

from __future__ import annotations

import orjson


def token_event(event: bytes) -> bool:
    """A `data:` event carrying generated text (not the role chunk, usage chunk or [DONE])."""
    if not event.startswith(b"data: ") or event.startswith(b"data: [DONE]"):
        return False
    chunk = orjson.loads(event[6:])
    return any(choice.get("delta", {}).get("content") for choice in chunk.get("choices") or ())


def split_events(buffer: bytes, data: bytes) -> tuple[list[bytes], bytes]:
    """The complete events in `buffer + data` (stripped, empty ones dropped), and the rest."""
    *complete, rest = (buffer + data).split(b"\n\n")
    return [event.strip() for event in complete if event.strip()], rest
