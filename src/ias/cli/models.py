"""`ias-admin model …`: the model registry (super admins). A model is a public name clients
send as `model`, the name its backends expect, and prices; the router serves it as soon as it
has a backend (`--backend`, or `ias-admin backend add`)."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import typer

from ias.cli.api_client import ApiError
from ias.cli.backends import add_backend, backend_url
from ias.cli.refs import model_id
from ias.cli.render import (
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
    help="""Register, change and remove the models clients can call.

\b
Example:
  ias-admin model add llama-3.1-8b --kind chat \\
    --upstream-model meta-llama/Llama-3.1-8B-Instruct \\
    --input-price-per-mtok 0.15 --output-price-per-mtok 0.60 \\
    --backend http://10.0.0.5:8000/v1
  ias-admin model list
  ias-admin model update llama-3.1-8b --context-length 131072
  ias-admin model remove llama-3.1-8b
""",
    no_args_is_help=True,
)


class Kind(enum.StrEnum):
    CHAT = "chat"
    COMPLETION = "completion"
    EMBEDDING = "embedding"


ContextLength = Annotated[
    int | None, typer.Option(min=1, help="Tokens the model accepts.", show_default=False)
]
UpstreamModel = Annotated[
    str | None,
    typer.Option(help="The model name the backends expect.", show_default=False),
]


def _price(description: str) -> Any:
    return typer.Option(
        min=0.0, max=1_000_000.0, metavar="USD", help=description, show_default=False
    )


InputPrice = Annotated[float | None, _price("USD per million prompt tokens (default 0).")]
OutputPrice = Annotated[float | None, _price("USD per million completion tokens (default 0).")]
CachedPrice = Annotated[
    float | None, _price("USD per million cached prompt tokens (default: the input price).")
]


def _usd(value: object) -> str:
    return "-" if value is None else f"{value:g}"


@app.command("add")
@api_command
def add(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The public name clients send as `model`.")
    ],
    kind: Annotated[Kind, typer.Option(help="What the model does.")],
    upstream_model: Annotated[str, typer.Option(help="The model name the backends expect.")],
    context_length: ContextLength = None,
    input_price_per_mtok: InputPrice = None,
    output_price_per_mtok: OutputPrice = None,
    cached_input_price_per_mtok: CachedPrice = None,
    backend: Annotated[
        list[str] | None,
        typer.Option(
            "--backend",
            metavar="URL",
            parser=backend_url,
            help="Serve it from this server right away; repeat for several.",
            show_default=False,
        ),
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Register it switched off.")] = False,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a model; with --backend the router serves it at once.

    \b
    Example:
      ias-admin model add llama-3.1-8b --kind chat \\
        --upstream-model meta-llama/Llama-3.1-8B-Instruct --backend http://10.0.0.5:8000/v1
    """
    body = {
        "name": name,
        "kind": kind.value,
        "upstream_model": upstream_model,
        "context_length": context_length,
        "input_price_per_mtok": input_price_per_mtok or 0.0,
        "output_price_per_mtok": output_price_per_mtok or 0.0,
        "cached_input_price_per_mtok": cached_input_price_per_mtok,
        "enabled": not disabled,
    }
    with client(url) as api:
        model: dict[str, Any] = api.post("/api/admin/models", body)
        for backend_url_ in backend or []:
            try:
                add_backend(api, model["id"], backend_url_)
            except ApiError as exc:
                raise ApiError(
                    f"registered model {name} ({model['id']}), but backend {backend_url_} "
                    f"was refused: {exc}; add it with `ias-admin backend add {name} URL`"
                ) from None
        if backend:
            model = api.get(f"/api/admin/models/{model['id']}")
    served = f", served by {len(model['backends'])} backend(s)" if model["backends"] else ""
    done(f"registered model {name} ({model['id']}){served}", model, as_json=as_json)


@app.command("list")
@api_command
def list_models(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """List every registered model, enabled or not, with its backends.

    Example: ias-admin model list --json
    """
    with client(url) as api:
        models: list[dict[str, Any]] = api.get("/api/admin/models")
    emit(
        models,
        as_json=as_json,
        columns=[
            ("name", "name"),
            ("id", "id"),
            ("kind", "kind"),
            ("upstream model", "upstream_model"),
            ("context", "context_length"),
            ("in $/Mtok", lambda model: _usd(model.get("input_price_per_mtok"))),
            ("out $/Mtok", lambda model: _usd(model.get("output_price_per_mtok"))),
            ("enabled", "enabled"),
            ("backends", lambda model: [backend["url"] for backend in model["backends"]]),
        ],
    )


@app.command("update")
@api_command
def update(
    model: ModelArgument,
    name: Annotated[str | None, typer.Option(help="A new public name.", show_default=False)] = None,
    kind: Annotated[Kind | None, typer.Option(help="What the model does.")] = None,
    upstream_model: UpstreamModel = None,
    context_length: ContextLength = None,
    input_price_per_mtok: InputPrice = None,
    output_price_per_mtok: OutputPrice = None,
    cached_input_price_per_mtok: CachedPrice = None,
    enabled: Annotated[
        bool | None,
        typer.Option("--enable/--disable", help="Switch it on or off.", show_default=False),
    ] = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a model's names, context length or prices, or switch it on or off.

    \b
    Example:
      ias-admin model update llama-3.1-8b --output-price-per-mtok 0.5 --disable
    """
    changes = {
        "name": name,
        "kind": kind.value if kind else None,
        "upstream_model": upstream_model,
        "context_length": context_length,
        "input_price_per_mtok": input_price_per_mtok,
        "output_price_per_mtok": output_price_per_mtok,
        "cached_input_price_per_mtok": cached_input_price_per_mtok,
        "enabled": enabled,
    }
    body = {field: value for field, value in changes.items() if value is not None}
    if not body:
        raise typer.BadParameter(
            "nothing to change: give at least one option (see --help)", param_hint="options"
        )
    with client(url) as api:
        updated: dict[str, Any] = api.patch(f"/api/admin/models/{model_id(api, model)}", body)
    done(f"updated model {updated['name']} ({updated['id']})", updated, as_json=as_json)


@app.command("remove")
@api_command
def remove(
    model: ModelArgument, yes: YesOption = False, url: UrlOption = None, as_json: JsonOption = False
) -> None:
    """Remove a model and its backends; its usage history stays in the ledger.

    Example: ias-admin model remove llama-3.1-8b --yes
    """
    with client(url) as api:
        model_ref = model_id(api, model)
        confirm(f"Remove model {model} and its backends? Clients calling it will get errors.", yes)
        api.delete(f"/api/admin/models/{model_ref}")
    done(f"removed model {model}", {"id": model_ref, "removed": True}, as_json=as_json)
