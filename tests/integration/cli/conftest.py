"""A live installation for `ias-admin`: the all-in-one process on the production stores
(PostgreSQL, Redis, RabbitMQ), a mock engine to register as a backend, and a super admin.

Commands run in this process through Typer's runner, with their own config folder, so each
test starts signed out unless it uses `signed_in`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from ias.app import create_app
from ias.cli.admin import app as admin_app
from ias.engine.app import EngineApp, create_engine_app
from ias.migrations import runner
from ias.secrets import resolve_secrets
from ias.settings import Settings
from tests.conftest import REDIS_URL, rabbitmq_vhost
from tests.integration.control.conftest import _create_database, _drop_database
from tests.integration.router.conftest import engine_config
from tests.servers import ServerThread

ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "violet-harbour-47-tangent"


@dataclass
class Live:
    url: str
    settings: Settings
    engine: EngineApp
    engine_url: str
    database_url: str


@dataclass
class Cli:
    """Runs `ias-admin` against the live stack with a config folder of its own."""

    live: Live
    config: Path

    def __call__(self, *args: str, input: str | None = None) -> Result:
        env = {
            "IAS_URL": self.live.url,
            "XDG_CONFIG_HOME": str(self.config),
            "IAS_DATABASE_URL": self.live.database_url,
            "IAS_MODE": "embedded",
        }
        return CliRunner().invoke(admin_app, list(args), env=env, input=input)

    def ok(self, *args: str, input: str | None = None) -> Result:
        """Run a command that must succeed."""
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.exit_code, result.output, result.exception)
        return result

    def login(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
        self.ok("login", "--email", email, "--password", password)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    name = f"ias_cli_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_database(name))
    database_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    asyncio.run(runner.upgrade(database_url))
    home = tmp_path_factory.mktemp("cli-home")
    engine = create_engine_app(engine_config())
    try:
        with rabbitmq_vhost() as amqp_url, ServerThread(engine) as engine_server:
            settings = resolve_secrets(
                Settings(
                    home=home,
                    database_url=database_url,
                    redis_url=REDIS_URL,
                    redis_key_prefix=f"cli-{uuid.uuid4().hex[:8]}:",
                    rabbitmq_url=amqp_url,
                    analytics={"batch_max_wait_ms": 20},
                    router={"catalog_refresh_seconds": 0.5},
                )
            )
            with ServerThread(create_app(settings, "all")) as server:
                live = Live(server.url, settings, engine, engine_server.url, database_url)
                bootstrap = Cli(live, home / "bootstrap-config")
                bootstrap.ok(
                    "bootstrap",
                    "create-super-admin",
                    "--email",
                    ADMIN_EMAIL,
                    "--password",
                    ADMIN_PASSWORD,
                )
                yield live
    finally:
        asyncio.run(_drop_database(name))


@pytest.fixture
def cli(live: Live, tmp_path: Path) -> Cli:
    """`ias-admin`, signed out."""
    return Cli(live, tmp_path / "config")


@pytest.fixture
def admin(cli: Cli) -> Cli:
    """`ias-admin`, signed in as the super admin."""
    cli.login()
    return cli
