"""`ias-admin backend …`: the servers a registered model's traffic goes to. The router picks
up an added or removed backend at once; a backend's API key is stored encrypted and never
shown again."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from ias.cli.api_client import ApiClient
from ias.cli.refs import model_id
from ias.cli.render import (
    Column,
    JsonOption,
    ModelArgument,
    UrlOption,
    YesOption,
    api_command,
    client,
    confirm,
    done,
    emit,
)

app = typer.Typer(
    help="""Add, list and remove the servers that serve a model.

\b
Example:
  ias-admin backend add llama-3.1-8b http://10.0.0.5:8000/v1 --weight 2
  ias-admin backend list llama-3.1-8b
  ias-admin backend remove llama-3.1-8b 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b
""",
    no_args_is_help=True,
)

BACKEND_COLUMNS: list[Column] = [
    ("id", "id"),
    ("url", "url"),
    ("weight", "weight"),
    ("enabled", "enabled"),
    ("api key", lambda backend: "stored" if backend.get("has_api_key") else "-"),
    ("created", "created_at"),
]


def backend_url(text: str) -> str:
    """A first check, so a typo fails before anything is sent; the server checks the rest."""
    url = text.strip()
    if not url.lower().startswith(("http://", "https://")):
        raise typer.BadParameter(
            f"{text!r} is not an http:// or https:// URL, e.g. http://10.0.0.5:8000/v1"
        )
    return url


def add_backend(
    api: ApiClient, model: str, url: str, *, api_key: str | None = None, weight: int = 1
) -> dict[str, Any]:
    body = {"url": url, "api_key": api_key, "weight": weight}
    backend: dict[str, Any] = api.post(f"/api/admin/models/{model}/backends", body)
    return backend


@app.command("add")
@api_command
def add(
    model: ModelArgument,
    url: Annotated[
        str,
        typer.Argument(
            metavar="URL",
            parser=backend_url,
            help="Base URL of an OpenAI-compatible server, with or without /v1.",
        ),
    ],
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="IAS_BACKEND_API_KEY",
            help="Bearer token the backend expects (or IAS_BACKEND_API_KEY); stored encrypted.",
            show_default=False,
        ),
    ] = None,
    weight: Annotated[int, typer.Option(min=1, max=1000, help="Share of the traffic.")] = 1,
    url_option: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a share of a model's traffic to a server; the router uses it at once.

    \b
    Example:
      ias-admin backend add llama-3.1-8b http://10.0.0.5:8000/v1 --weight 2
    """
    with client(url_option) as api:
        backend = add_backend(api, model_id(api, model), url, api_key=api_key, weight=weight)
    done(f"added backend {backend['id']} ({backend['url']}) to {model}", backend, as_json=as_json)


@app.command("list")
@api_command
def list_backends(model: ModelArgument, url: UrlOption = None, as_json: JsonOption = False) -> None:
    """List the servers a model's traffic goes to.

    Example: ias-admin backend list llama-3.1-8b
    """
    with client(url) as api:
        entry: dict[str, Any] = api.get(f"/api/admin/models/{model_id(api, model)}")
    emit(entry["backends"], as_json=as_json, columns=BACKEND_COLUMNS)


@app.command("remove")
@api_command
def remove(
    model: ModelArgument,
    backend_id: Annotated[
        uuid.UUID,
        typer.Argument(metavar="BACKEND_ID", help="The backend's id (see `backend list`)."),
    ],
    yes: YesOption = False,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stop sending a model's traffic to a server and forget it.

    \b
    Example:
      ias-admin backend remove llama-3.1-8b 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b --yes
    """
    with client(url) as api:
        model_ref = model_id(api, model)
        confirm(f"Remove backend {backend_id} from model {model}?", yes)
        api.delete(f"/api/admin/models/{model_ref}/backends/{backend_id}")
    done(
        f"removed backend {backend_id} from {model}",
        {"id": str(backend_id), "removed": True},
        as_json=as_json,
    )
