"""`/api/models` (catalog) and `/api/admin/models` (the registry, super admins).

HTTP only; the rules live in `service`.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from ias.control.audit.service import Actor
from ias.control.deps import ClientIp, ContextDep, CurrentPrincipal, SessionDep, SuperAdmin
from ias.control.registry import service
from ias.control.registry.schemas import (
    BackendCreate,
    BackendRead,
    BackendUpdate,
    Catalog,
    CatalogModel,
    CatalogPricing,
    ModelCreate,
    ModelRead,
    ModelUpdate,
)
from ias.control.schemas import MICROS_PER_USD
from ias.models import Backend, ModelEntry

router = APIRouter(tags=["models"])

MODEL = "/admin/models/{model_id}"
BACKEND = "/admin/models/{model_id}/backends/{backend_id}"


def _dollars(micros: int) -> float:
    return micros / MICROS_PER_USD


def backend_read(backend: Backend) -> BackendRead:
    return BackendRead(
        id=backend.id,
        model_id=backend.model_id,
        url=backend.url,
        weight=backend.weight,
        enabled=backend.enabled,
        has_api_key=backend.api_key_encrypted is not None,
        created_at=backend.created_at,
    )


def model_read(view: service.ModelView) -> ModelRead:
    model, cached = view.model, view.model.cached_input_price_micros_per_mtok
    return ModelRead(
        id=model.id,
        name=model.name,
        kind=model.kind,
        upstream_model=model.upstream_model,
        context_length=model.context_length,
        input_price_per_mtok=_dollars(model.input_price_micros_per_mtok),
        output_price_per_mtok=_dollars(model.output_price_micros_per_mtok),
        cached_input_price_per_mtok=None if cached is None else _dollars(cached),
        enabled=model.enabled,
        backends=[backend_read(backend) for backend in view.backends],
        created_at=model.created_at,
        updated_at=model.updated_at,
    )


def catalog_entry(model: ModelEntry) -> CatalogModel:
    cached = model.cached_input_price_micros_per_mtok
    pricing = CatalogPricing(
        input_per_mtok_usd=_dollars(model.input_price_micros_per_mtok),
        output_per_mtok_usd=_dollars(model.output_price_micros_per_mtok),
        cached_input_per_mtok_usd=_dollars(
            model.input_price_micros_per_mtok if cached is None else cached
        ),
    )
    return CatalogModel(
        id=model.name, kind=model.kind, context_length=model.context_length, pricing=pricing
    )


@router.get("/models", response_model=Catalog)
async def catalog(_: CurrentPrincipal, session: SessionDep) -> Catalog:
    """The models you can call through `/v1`, with context length and prices (USD per million
    tokens). Send a model's `id` as `model`."""
    return Catalog(data=[catalog_entry(model) for model in await service.catalog(session)])


@router.post("/admin/models", response_model=ModelRead, status_code=status.HTTP_201_CREATED)
async def create_model(
    body: ModelCreate, admin: SuperAdmin, session: SessionDep, ip: ClientIp
) -> ModelRead:
    """Register a model under a public name (super admins). Add backends to serve it."""
    view = await service.create_model(session, Actor(admin.user.id, ip), body)
    return model_read(view)


@router.get("/admin/models", response_model=list[ModelRead])
async def list_models(_: SuperAdmin, session: SessionDep) -> list[ModelRead]:
    """Every registered model, enabled or not, with its backends (super admins).

    Backend API keys are never shown; `has_api_key` says whether one is stored."""
    return [model_read(view) for view in await service.list_models(session)]


@router.get(MODEL, response_model=ModelRead)
async def get_model(model_id: uuid.UUID, _: SuperAdmin, session: SessionDep) -> ModelRead:
    """One registered model with its backends (super admins)."""
    return model_read(await service.get_model(session, model_id))


@router.patch(MODEL, response_model=ModelRead)
async def update_model(
    model_id: uuid.UUID, body: ModelUpdate, admin: SuperAdmin, session: SessionDep, ip: ClientIp
) -> ModelRead:
    """Change any of a model's fields (super admins). Fields left out keep their value."""
    view = await service.update_model(session, Actor(admin.user.id, ip), model_id, body)
    return model_read(view)


@router.delete(MODEL, status_code=status.HTTP_204_NO_CONTENT)
async def delete_model(
    model_id: uuid.UUID, admin: SuperAdmin, session: SessionDep, ip: ClientIp
) -> Response:
    """Remove a model and its backends (super admins). Its usage history stays in the ledger."""
    await service.delete_model(session, Actor(admin.user.id, ip), model_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(f"{MODEL}/backends", response_model=BackendRead, status_code=status.HTTP_201_CREATED)
async def add_backend(
    model_id: uuid.UUID,
    body: BackendCreate,
    admin: SuperAdmin,
    context: ContextDep,
    session: SessionDep,
    ip: ClientIp,
) -> BackendRead:
    """Add a server that serves this model (super admins): the base URL of an
    OpenAI-compatible API, with or without `/v1`. Its `api_key` is stored encrypted."""
    actor = Actor(admin.user.id, ip)
    return backend_read(await service.add_backend(context, session, actor, model_id, body))


@router.patch(BACKEND, response_model=BackendRead)
async def update_backend(
    model_id: uuid.UUID,
    backend_id: uuid.UUID,
    body: BackendUpdate,
    admin: SuperAdmin,
    context: ContextDep,
    session: SessionDep,
    ip: ClientIp,
) -> BackendRead:
    """Change a backend's weight, switch it on or off, or replace (`null`: remove) its key."""
    actor = Actor(admin.user.id, ip)
    backend = await service.update_backend(context, session, actor, model_id, backend_id, body)
    return backend_read(backend)


@router.delete(BACKEND, status_code=status.HTTP_204_NO_CONTENT)
async def remove_backend(
    model_id: uuid.UUID, backend_id: uuid.UUID, admin: SuperAdmin, session: SessionDep, ip: ClientIp
) -> Response:
    """Stop sending this model's traffic to a backend and forget it (super admins)."""
    await service.remove_backend(session, Actor(admin.user.id, ip), model_id, backend_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
