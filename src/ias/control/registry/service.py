"""The model registry: public model names, their prices, and the backends that serve them.

Rules: only super admins change the registry (the endpoints require it). A model's name is what
clients send as `model`, so it is unique and limited to characters that survive URLs and shells.
Backend URLs are plain http(s) base URLs; credentials belong in the backend's api key, which is
stored encrypted and never leaves the server again. Every change is audited and, once
committed, tells every router to drop its cached view of the models.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ias.contracts.invalidation import FLUSH, MODELS_CHANNEL
from ias.control.audit.service import Actor, record
from ias.control.context import ControlContext
from ias.control.events import publish_after_commit
from ias.control.registry import repository
from ias.control.registry.schemas import (
    MAX_NAME_LENGTH,
    BackendCreate,
    BackendUpdate,
    ModelCreate,
    ModelUpdate,
)
from ias.control.registry.urls import normalise_backend_url
from ias.control.schemas import micros, usd
from ias.errors import InvalidRequest, NotFound
from ias.kit.clock import utcnow
from ias.kit.crypto import Encryptor
from ias.kit.ids import uuid7
from ias.models import Backend, ModelEntry

_MODEL_NAME = re.compile(r"[A-Za-z0-9._:/-]+")
_API_KEY = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: it goes into a header
_NULLABLE = frozenset({"context_length", "cached_input_price_per_mtok"})


@dataclass(frozen=True, slots=True)
class ModelView:
    model: ModelEntry
    backends: list[Backend]


def check_model_name(name: str) -> str:
    if not 1 <= len(name) <= MAX_NAME_LENGTH or not _MODEL_NAME.fullmatch(name):
        raise InvalidRequest(
            f"A model name is 1 to {MAX_NAME_LENGTH} letters, digits and . _ : / - "
            "(clients send it as `model`).",
            param="name",
            code="invalid_model_name",
        )
    return name


def _upstream_model(value: str) -> str:
    cleaned = value.strip()
    if not cleaned or not cleaned.isprintable():
        raise InvalidRequest(
            "upstream_model must be the model name the backends expect, e.g. "
            "'meta-llama/Llama-3.1-8B-Instruct'.",
            param="upstream_model",
            code="invalid_upstream_model",
        )
    return cleaned


def _check_api_key(api_key: str) -> str:
    if not _API_KEY.fullmatch(api_key):
        raise InvalidRequest(
            "api_key must be printable ASCII without spaces (it is sent as a bearer token).",
            param="api_key",
            code="invalid_api_key_format",
        )
    return api_key


def _required_micros(dollars: float) -> int:
    value = micros(dollars)
    assert value is not None
    return value


def _refuse_nulls(changes: dict[str, Any], nullable: frozenset[str]) -> None:
    for field, value in changes.items():
        if value is None and field not in nullable:
            raise InvalidRequest(
                f"{field} cannot be null: leave it out to keep the current value.",
                param=field,
                code="invalid_value",
            )


def encryptor(context: ControlContext) -> Encryptor:
    return Encryptor(context.settings.secret("encryption_key"))


async def _changed(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target: ModelEntry | Backend,
    details: dict[str, Any],
) -> None:
    """Every registry change is audited and, once committed, announced to the routers."""
    target_type = "model" if isinstance(target, ModelEntry) else "backend"
    await record(
        session, actor, action, target_type=target_type, target_id=target.id, details=details
    )
    publish_after_commit(session, MODELS_CHANNEL, FLUSH.encode())


def _snapshot(model: ModelEntry) -> dict[str, Any]:
    """The model as the API shows it, for audit diffs."""
    return {
        "name": model.name,
        "kind": model.kind.value,
        "upstream_model": model.upstream_model,
        "context_length": model.context_length,
        "input_price_per_mtok": usd(model.input_price_micros_per_mtok),
        "output_price_per_mtok": usd(model.output_price_micros_per_mtok),
        "cached_input_price_per_mtok": usd(model.cached_input_price_micros_per_mtok),
        "enabled": model.enabled,
    }


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        field: {"from": before[field], "to": after[field]}
        for field in after
        if before.get(field) != after[field]
    }


async def _model(session: AsyncSession, model_id: uuid.UUID) -> ModelEntry:
    model = await repository.get_model(session, model_id)
    if model is None:
        raise NotFound("No such model.", param="model_id")
    return model


async def _backend(session: AsyncSession, model_id: uuid.UUID, backend_id: uuid.UUID) -> Backend:
    backend = await repository.get_backend(session, model_id, backend_id)
    if backend is None:
        raise NotFound("No such backend for this model.", param="backend_id")
    return backend


async def list_models(session: AsyncSession) -> list[ModelView]:
    models = await repository.models(session)
    backends = await repository.backends_of(session, [model.id for model in models])
    return [
        ModelView(model, [backend for backend in backends if backend.model_id == model.id])
        for model in models
    ]


async def get_model(session: AsyncSession, model_id: uuid.UUID) -> ModelView:
    model = await _model(session, model_id)
    return ModelView(model, await repository.backends_of(session, [model.id]))


async def catalog(session: AsyncSession) -> list[ModelEntry]:
    return await repository.models(session, enabled_only=True)


async def create_model(session: AsyncSession, actor: Actor, body: ModelCreate) -> ModelView:
    name = check_model_name(body.name)
    upstream_model = _upstream_model(body.upstream_model)
    if await repository.name_taken(session, name):
        raise repository.model_name_conflict(name)
    now = utcnow()
    model = ModelEntry(
        id=uuid7(),
        name=name,
        kind=body.kind,
        upstream_model=upstream_model,
        context_length=body.context_length,
        input_price_micros_per_mtok=_required_micros(body.input_price_per_mtok),
        output_price_micros_per_mtok=_required_micros(body.output_price_per_mtok),
        cached_input_price_micros_per_mtok=micros(body.cached_input_price_per_mtok),
        enabled=body.enabled,
        created_at=now,
        updated_at=now,
    )
    await repository.add_model(session, model)
    await _changed(session, actor, "model.created", model, _snapshot(model))
    return ModelView(model, [])


def _apply(model: ModelEntry, changes: dict[str, Any]) -> None:
    if "name" in changes:
        model.name = check_model_name(changes["name"])
    if "kind" in changes:
        model.kind = changes["kind"]
    if "upstream_model" in changes:
        model.upstream_model = _upstream_model(changes["upstream_model"])
    if "context_length" in changes:
        model.context_length = changes["context_length"]
    if "input_price_per_mtok" in changes:
        model.input_price_micros_per_mtok = _required_micros(changes["input_price_per_mtok"])
    if "output_price_per_mtok" in changes:
        model.output_price_micros_per_mtok = _required_micros(changes["output_price_per_mtok"])
    if "cached_input_price_per_mtok" in changes:
        model.cached_input_price_micros_per_mtok = micros(changes["cached_input_price_per_mtok"])
    if "enabled" in changes:
        model.enabled = changes["enabled"]


async def update_model(
    session: AsyncSession, actor: Actor, model_id: uuid.UUID, body: ModelUpdate
) -> ModelView:
    changes = body.model_dump(exclude_unset=True)
    _refuse_nulls(changes, _NULLABLE)
    model = await _model(session, model_id)
    name = changes.get("name")
    if name is not None and await repository.name_taken(session, name, other_than=model.id):
        raise repository.model_name_conflict(name)
    before = _snapshot(model)
    _apply(model, changes)
    diff = _diff(before, _snapshot(model))
    if diff:
        model.updated_at = utcnow()
        await repository.save_model(session, model)
        await _changed(
            session, actor, "model.updated", model, {"name": model.name, "changes": diff}
        )
    return ModelView(model, await repository.backends_of(session, [model.id]))


async def delete_model(session: AsyncSession, actor: Actor, model_id: uuid.UUID) -> None:
    model = await _model(session, model_id)
    backends = await repository.backends_of(session, [model.id])
    await repository.delete_model(session, model)
    await _changed(
        session,
        actor,
        "model.deleted",
        model,
        {"name": model.name, "backends_removed": len(backends)},
    )


def _backend_details(model: ModelEntry, backend: Backend) -> dict[str, Any]:
    # "has_key", not "has_api_key": the audit scrubber drops any field named like a secret.
    return {
        "model": model.name,
        "url": backend.url,
        "weight": backend.weight,
        "enabled": backend.enabled,
        "has_key": backend.api_key_encrypted is not None,
    }


async def add_backend(
    context: ControlContext,
    session: AsyncSession,
    actor: Actor,
    model_id: uuid.UUID,
    body: BackendCreate,
) -> Backend:
    url = normalise_backend_url(body.url)
    api_key = None if body.api_key is None else _check_api_key(body.api_key)
    model = await _model(session, model_id)
    if await repository.backend_exists(session, model.id, url):
        raise repository.backend_url_conflict(url)
    backend = Backend(
        id=uuid7(),
        model_id=model.id,
        url=url,
        api_key_encrypted=None if api_key is None else encryptor(context).encrypt(api_key),
        weight=body.weight,
        enabled=body.enabled,
        created_at=utcnow(),
    )
    await repository.add_backend(session, backend)
    await _changed(session, actor, "backend.added", backend, _backend_details(model, backend))
    return backend


async def update_backend(
    context: ControlContext,
    session: AsyncSession,
    actor: Actor,
    model_id: uuid.UUID,
    backend_id: uuid.UUID,
    body: BackendUpdate,
) -> Backend:
    changes = body.model_dump(exclude_unset=True)
    _refuse_nulls(changes, frozenset({"api_key"}))
    model = await _model(session, model_id)
    backend = await _backend(session, model.id, backend_id)
    before = {"weight": backend.weight, "enabled": backend.enabled}
    backend.weight = changes.get("weight", backend.weight)
    backend.enabled = changes.get("enabled", backend.enabled)
    diff = _diff(before, {"weight": backend.weight, "enabled": backend.enabled})
    if "api_key" in changes:
        api_key = changes["api_key"]
        secret = None if api_key is None else encryptor(context).encrypt(_check_api_key(api_key))
        backend.api_key_encrypted = secret
        diff["key"] = "removed" if api_key is None else "replaced"
    if diff:
        await repository.save_backend(session)
        await _changed(
            session,
            actor,
            "backend.updated",
            backend,
            {"model": model.name, "url": backend.url, "changes": diff},
        )
    return backend


async def remove_backend(
    session: AsyncSession, actor: Actor, model_id: uuid.UUID, backend_id: uuid.UUID
) -> None:
    model = await _model(session, model_id)
    backend = await _backend(session, model.id, backend_id)
    await repository.delete_backend(session, backend)
    await _changed(session, actor, "backend.removed", backend, _backend_details(model, backend))
