"""The models an engine serves, which endpoint each answers, and `/v1/models`."""

from __future__ import annotations

import time
from typing import Any

import orjson

from ias.engine.config import EngineConfig, EngineModel, ModelKind
from ias.engine.errors import EngineError, bad_request, model_not_found

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
EMBEDDINGS = "/v1/embeddings"

# Which model kinds answer each endpoint, and the API name vLLM uses when a model cannot.
_SERVES: dict[str, tuple[frozenset[ModelKind], str]] = {
    CHAT: (frozenset({"chat"}), "Chat Completions API"),
    COMPLETIONS: (frozenset({"chat", "completion"}), "Completions API"),
    EMBEDDINGS: (frozenset({"embedding"}), "Embeddings API"),
}


class Catalog:
    def __init__(self, config: EngineConfig) -> None:
        self._models = {model.name: model for model in config.models}
        self._created = int(time.time())
        self._config = config
        self._cards = {model.name: self._card(model) for model in config.models}
        self.list_body = orjson.dumps({"object": "list", "data": list(self._cards.values())})

    def _card(self, model: EngineModel) -> dict[str, Any]:
        return {
            "id": model.name,
            "object": "model",
            "created": self._created,
            "owned_by": self._config.owned_by,
            "root": model.name,
            "parent": None,
            "max_model_len": self._config.max_model_len,
        }

    def card_body(self, name: str) -> bytes:
        card = self._cards.get(name)
        if card is None:
            raise model_not_found(name)
        return orjson.dumps(card)

    def resolve(self, requested: Any, endpoint: str) -> str:
        """The model a request names, checked against what the endpoint can serve.

        Like vLLM, a request without `model` gets the first model that serves the endpoint.
        """
        kinds, api_name = _SERVES[endpoint]
        if requested is None:
            for candidate in self._models.values():
                if candidate.kind in kinds:
                    return candidate.name
            raise bad_request(f"The model does not support {api_name}", "model")
        if not isinstance(requested, str):
            raise bad_request("`model` must be a string.", "model")
        model = self._models.get(requested)
        if model is None:
            raise model_not_found(requested)
        if model.kind not in kinds:
            raise EngineError(400, f"The model does not support {api_name}", param="model")
        return model.name
