"""The control plane's Prometheus metrics, and the pure-ASGI middleware that records requests.

Labels stay bounded whatever the clients send: a request is labelled with the route template
that matched it (`/api/orgs/{org_id}`, never the raw path), `unmatched` when none did, and its
method folded to `other` when it is not a standard one. No label ever names an org, a key, a
user or a request.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

from prometheus_client import Counter, Histogram
from starlette.routing import Route

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

FailedLoginReason = Literal["bad_credentials", "throttled", "disabled"]

REQUESTS = Counter(
    "ias_control_requests_total",
    "Requests the control plane answered, by method, route template and status.",
    ["method", "route", "status"],
)
REQUEST_DURATION = Histogram(
    "ias_control_request_duration_seconds",
    "Time from receiving a control-plane request to finishing its response.",
    ["method", "route"],
)
FAILED_LOGINS = Counter(
    "ias_control_failed_logins_total",
    "Sign-ins refused: bad_credentials, throttled or disabled.",
    ["reason"],
)
for _reason in ("bad_credentials", "throttled", "disabled"):
    FAILED_LOGINS.labels(_reason)  # every reason is exported from the start, at 0


def count_failed_login(reason: FailedLoginReason) -> None:
    FAILED_LOGINS.labels(reason).inc()


class ControlMetricsMiddleware:
    """Counts and times every HTTP request by the template of the route that served it.

    The template is read from the scope after the app ran, so nothing is matched twice: an
    API route leaves itself in `scope["route"]`; a plain Starlette route (the docs, the
    OpenAPI document) leaves only its endpoint, looked up among `app`'s routes. What was
    already in the scope on the way in belongs to the mount this app sits under.
    """

    def __init__(self, app: ASGIApp, routes_of: Starlette) -> None:
        self.app = app
        self._routes_of = routes_of
        self._paths_by_endpoint: dict[object, str] | None = None

    def _template(self, scope: Scope, mount: tuple[object, object]) -> str | None:
        route, endpoint = scope.get("route"), scope.get("endpoint")
        path = getattr(route, "path", None)
        if route is not mount[0] and isinstance(path, str):
            return path
        if endpoint is None or endpoint is mount[1]:
            return None
        if self._paths_by_endpoint is None:  # the routes are complete once requests arrive
            self._paths_by_endpoint = {
                route.endpoint: route.path
                for route in self._routes_of.routes
                if isinstance(route, Route)
            }
        return self._paths_by_endpoint.get(endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        mount = (scope.get("route"), scope.get("endpoint"))
        # Where this app is mounted (`/api`), without any prefix a proxy put before the server.
        root_path: str = scope.get("root_path", "")
        mount_prefix = root_path[len(scope.get("app_root_path", root_path)) :]
        status = 500  # what the client gets if the app fails before answering

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            template = self._template(scope, mount)
            route = UNMATCHED if template is None else mount_prefix + template
            REQUESTS.labels(method, route, str(status)).inc()
            REQUEST_DURATION.labels(method, route).observe(time.perf_counter() - started)
