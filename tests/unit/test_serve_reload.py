"""`ias serve PROCESS --reload`: uvicorn's reloader, which imports the app by name in a fresh
interpreter after each change, watching the package's sources; one worker only."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from uvicorn.importer import import_from_string

import ias
from ias.cli import serve as serve_module
from ias.cli.main import app
from ias.cli.serve import PACKAGE_DIR, RELOAD_FACTORIES, ServeProcess, reload_config
from ias.settings import Settings
from tests.servers import free_port


@pytest.fixture
def sock() -> Iterator[socket.socket]:
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound


@pytest.mark.parametrize("process", list(ServeProcess))
def test_each_process_reloads_from_a_factory_found_by_name(
    process: ServeProcess, sock: socket.socket, embedded_settings: Settings
) -> None:
    config = reload_config(process, sock, embedded_settings)
    assert isinstance(config.app, str)
    assert import_from_string(config.app) is RELOAD_FACTORIES[process]
    assert config.should_reload
    assert config.factory
    assert config.workers == 1
    assert config.reload_dirs == [PACKAGE_DIR]
    assert config.port == sock.getsockname()[1]


def test_it_watches_the_package_not_the_virtualenv_or_the_portal() -> None:
    assert Path(ias.__file__).resolve().parent == PACKAGE_DIR
    assert PACKAGE_DIR.name == "ias"
    assert (PACKAGE_DIR / "cli" / "serve.py").is_file()


def test_a_factory_builds_its_app_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    # The mock engine needs no store: the one factory a unit test can run end to end.
    built = RELOAD_FACTORIES[ServeProcess.MOCK_ENGINE]()
    assert callable(built)


def test_without_reload_nothing_changes(sock: socket.socket, embedded_settings: Settings) -> None:
    config = serve_module._config(object(), sock, embedded_settings)
    assert not config.reload
    assert not config.factory
    several = serve_module._config(object(), sock, embedded_settings, workers=3)
    assert not several.reload
    assert several.factory


def test_reload_refuses_several_workers() -> None:
    result = CliRunner().invoke(app, ["serve", "mock-engine", "--reload", "--workers", "2"])
    assert result.exit_code == 2
    assert "--reload runs a single worker" in result.output


def test_serve_reload_hands_the_bound_socket_to_the_reloader(
    clean_env: pytest.MonkeyPatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict[str, Any] = {}

    class FakeReloader:
        def __init__(self, config: Any, target: Any, sockets: list[socket.socket]) -> None:
            started.update(config=config, target=target, sockets=sockets)

        def run(self) -> None:
            # The socket is closed once serve returns: look while it is open.
            started["ports"] = [s.getsockname()[1] for s in started["sockets"]]

    monkeypatch.setattr(serve_module, "ChangeReload", FakeReloader)
    port = free_port()
    result = CliRunner().invoke(app, ["serve", "mock-engine", "--reload", "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert started["config"].app == "ias.cli.serve:reload_mock_engine"
    assert started["ports"] == [port]
