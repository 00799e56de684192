"""How one request behaves: its timing and its injected failure, from the engine and `mock`.

A request may carry ``"mock": {...}`` in its body (the router passes unknown fields through),
overriding the engine's settings for that request only:

| key            | meaning                                                                |
|----------------|------------------------------------------------------------------------|
| `fail_status`  | answer with this HTTP status (400-599) and an error body, nothing else |
| `die_after`    | send this many token chunks, then drop the connection mid-response     |
| `hang_after`   | send this many token chunks, then stall until the client goes away     |
| `delay`        | seconds between tokens (engine: `seconds_per_token`)                   |
| `prompt_delay` | seconds before the first token, in total (engine: per prompt token)    |

Chunk counts count token chunks only (not the role chunk, the usage chunk or `[DONE]`); a count
at or above the number of tokens fails after the last token, before usage and `[DONE]`. On a
response that is not streamed, `die_after`/`hang_after` K wait as long as K tokens would take,
then drop the connection after the headers, or stall before them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ias.engine.config import EngineConfig
from ias.engine.errors import bad_request
from ias.engine.fields import Json, as_object, optional_int, optional_number

_MOCK_KEYS = frozenset({"fail_status", "die_after", "hang_after", "delay", "prompt_delay"})


@dataclass(frozen=True, slots=True)
class MockOptions:
    fail_status: int | None = None
    die_after: int | None = None
    hang_after: int | None = None
    delay: float | None = None
    prompt_delay: float | None = None


NO_MOCK = MockOptions()


@dataclass(frozen=True, slots=True)
class Behaviour:
    prompt_delay: float
    token_delay: float
    fail_status: int | None
    die_after: int | None
    hang_after: int | None

    @property
    def instant(self) -> bool:
        """Nothing to wait for and nothing to break: the response can be sent straight away."""
        return (
            not self.prompt_delay
            and not self.token_delay
            and self.die_after is None
            and self.hang_after is None
        )


def parse_mock(body: Json) -> MockOptions:
    raw = body.get("mock")
    if raw is None:
        return NO_MOCK
    options = as_object(raw, "mock")
    unknown = sorted(set(options) - _MOCK_KEYS)
    if unknown:
        raise bad_request(
            f"Unknown `mock` option(s) {unknown}; known: {sorted(_MOCK_KEYS)}.", "mock"
        )
    return MockOptions(
        fail_status=optional_int(options, "fail_status", minimum=400, maximum=599, within="mock"),
        die_after=optional_int(options, "die_after", minimum=0, within="mock"),
        hang_after=optional_int(options, "hang_after", minimum=0, within="mock"),
        delay=optional_number(options, "delay", within="mock"),
        prompt_delay=optional_number(options, "prompt_delay", within="mock"),
    )


def _pick(request_value: float | None, engine_value: float) -> float:
    return engine_value if request_value is None else request_value


def behaviour_for(config: EngineConfig, mock: MockOptions, prompt_tokens: int) -> Behaviour:
    return Behaviour(
        prompt_delay=_pick(mock.prompt_delay, config.prompt_seconds_per_token * prompt_tokens),
        token_delay=_pick(mock.delay, config.seconds_per_token),
        fail_status=mock.fail_status if mock.fail_status is not None else config.fail_status,
        die_after=mock.die_after if mock.die_after is not None else config.die_after_chunks,
        hang_after=mock.hang_after if mock.hang_after is not None else config.hang_after_chunks,
    )
