"""The web portal: the built single-page app (`web/`, `make portal`) served at `/`.

`npm run build` writes the app into the `portal/` folder beside this module, so it ships inside
the Python package. This app is mounted last, after `/api` and the health routes, and answers:

- a file of the build by its path: `assets/*` are content-hashed, so they are cached for a
  year; anything else (`index.html`, icons) is revalidated on every use;
- `index.html` for `/`, and for any other GET that a browser navigates to (its `Accept` names
  `text/html`), so a reload of `/orgs/<id>` lands in the app, which routes it;
- the usual 404 envelope for everything else: a missing asset, a script calling an unknown
  path, and always under the prefixes the platform owns (`/api`, `/v1`, `/health`, `/ready`,
  `/metrics`, `/_engine`), even in a process that does not serve them;
- when the portal was never built, a short page saying how to build it instead of `index.html`.

The folder is looked at on each request, so building the portal needs no restart.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send

PORTAL_DIR = Path(__file__).resolve().parent / "portal"
INDEX = "index.html"
RESERVED_PREFIXES = ("/api", "/v1", "/health", "/ready", "/metrics", "/_engine")

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The app loads only its own scripts and styles; Radix and charts set inline style attributes.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # Invite links carry their token in the path: never send it to another site.
    "referrer-policy": "no-referrer",
}

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>IAS: the portal is not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;
  padding: 0 1rem">
<h1>The IAS web portal is not built</h1>
<p>The API is up: <code>/api</code> and <code>/v1</code> answer as usual.
To get the portal, build it from a checkout of IAS (it needs Node.js 20.19 or newer):</p>
<pre>make portal</pre>
<p>It is written into the installed package (<code>ias/portal/</code>) and served from the
next request on, with no restart.</p>
</body>
</html>
"""


def _is_reserved(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED_PREFIXES)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return path


def _wants_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"text/html" in value
    return False


class Portal:
    """ASGI app serving the built portal from `directory` (see the module's docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise HTTPException(404)
        path = _route_path(scope)
        if _is_reserved(path):
            raise HTTPException(404)
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"allow": "GET, HEAD"})
        await self._respond(path, scope)(scope, receive, send)

    def _respond(self, path: str, scope: Scope) -> Response:
        file = self._file(path)
        if file is not None:
            cache = IMMUTABLE if path.startswith("/assets/") else REVALIDATE
            headers = {"cache-control": cache}
            if file.name == INDEX:
                headers |= PAGE_HEADERS
            return FileResponse(file, headers=headers)
        if path.startswith("/assets/") or not (path == "/" or _wants_html(scope)):
            raise HTTPException(404)
        return self._index()

    def _file(self, path: str) -> Path | None:
        relative = path.lstrip("/")
        if not relative:
            return None
        candidate = (self.directory / relative).resolve()
        if not candidate.is_relative_to(self.directory) or not candidate.is_file():
            return None
        return candidate

    def _index(self) -> Response:
        index = self.directory / INDEX
        if index.is_file():
            return FileResponse(index, headers={"cache-control": REVALIDATE} | PAGE_HEADERS)
        return HTMLResponse(NOT_BUILT_PAGE, status_code=503, headers={"cache-control": "no-store"})


class PortalMount(Mount):
    """Takes the GETs and HEADs no earlier route took, never a platform prefix.

    Declining the rest (rather than answering them) keeps the router's own answers: a POST to
    `/health` stays a 405, an unknown `/api` or `/v1` path a 404, whatever the process serves.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or _is_reserved(_route_path(scope))
        ):
            return Match.NONE, {}
        return super().matches(scope)


def portal_mount(directory: Path | None = None) -> Mount:
    """The portal as the last route of an app: the GETs no other route took come here."""
    return PortalMount("/", app=Portal(directory or PORTAL_DIR))
