"""The control plane's FastAPI app (`/api`), built from a `ControlContext`."""

from __future__ import annotations

from fastapi import FastAPI

from ias import __version__
from ias.control.admin.endpoints import router as admin_router
from ias.control.api_keys.endpoints import router as api_keys_router
from ias.control.audit.endpoints import router as audit_router
from ias.control.auth.endpoints import router as auth_router
from ias.control.context import ControlContext
from ias.control.invites.endpoints import router as invites_router
from ias.control.metrics import ControlMetricsMiddleware
from ias.control.openapi import ERROR_RESPONSES, install_openapi
from ias.control.orgs.endpoints import router as orgs_router
from ias.control.registry.endpoints import router as registry_router
from ias.control.usage.endpoints import router as usage_router
from ias.http_errors import install_error_handlers

ROUTERS = [
    auth_router,
    orgs_router,
    invites_router,
    api_keys_router,
    registry_router,
    usage_router,
    audit_router,
    admin_router,
]


def create_control_api(context: ControlContext) -> FastAPI:
    api = FastAPI(
        title="IAS control plane",
        version=__version__,
        summary=(
            "Organizations, members, invites, API keys, usage, the model registry and the "
            "audit log."
        ),
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.control = context
    install_error_handlers(api)
    for router in ROUTERS:
        api.include_router(router, responses=ERROR_RESPONSES)
    install_openapi(api)
    api.add_middleware(ControlMetricsMiddleware, routes_of=api)
    return api
