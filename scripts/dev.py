"""Development against real stores: `make dev-up`, `make dev` and `make dev-down`.

    up       start deploy/compose/dev.yml (PostgreSQL 15, Redis 7, RabbitMQ, the mock engine)
             with Docker Compose, wait until every service is healthy, write the IAS_*
             variables to .env.dev and print them as `export` lines
    down     stop and remove those containers; --volumes also deletes their data (the
             database, the broker's queues) and the router's spool in .ias-dev/
    run      (`make dev`) read .env.dev, migrate the database, then run from source, each
             process restarted when its code changes: the control plane (:8001), the router
             (:8002), the usage worker, a gateway on :8000 that sends /v1 to the router and the
             rest to the control plane (as the Ingress does), and the portal's dev server
             (:5173, its API through the gateway); creates the first super admin and registers
             the mock engine as `demo-chat` once the control plane answers; Ctrl-C stops all
    gateway  the gateway alone (run by `run`)

`up` and `down` need only the standard library, so any Python 3.11 runs them; `run` and
`gateway` run in the project's virtualenv.
"""

# It runs developer tools by name (docker, npm, bash) with arguments of its own making.
# ruff: noqa: S603, S607

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "deploy" / "compose" / "dev.yml"
ENV_FILE = ROOT / ".env.dev"
DEV_HOME = ROOT / ".ias-dev"
WEB = ROOT / "web"
BOOTSTRAP = ROOT / "deploy" / "compose" / "bootstrap.sh"

# What deploy/compose/dev.yml publishes, and with which credentials (development only).
POSTGRES_PORT = 15432
REDIS_PORT = 16379
RABBITMQ_PORT = 16672
ENGINE_PORT = 18000
DEV_USER = "ias"
DEV_PASSWORD = "ias-dev"  # noqa: S105 - the dev containers' fixed password, on 127.0.0.1 only
DEV_DATABASE = "ias"

# Where `make dev` runs its processes.
GATEWAY_PORT = 8000
CONTROL_PORT = 8001
ROUTER_PORT = 8002
PORTAL_PORT = 5173

ADMIN_EMAIL = "admin@example.com"
# Generated once, kept in .env.dev from then on: sessions, API keys and stored backend keys
# survive a new `make dev-up` (the secret must not change under the database).
SECRETS = ("IAS_JWT_SECRET", "IAS_API_KEY_SECRET", "IAS_ENCRYPTION_KEY", "IAS_ADMIN_PASSWORD")
MIN_SECRET_LENGTH = 32

NO_DOCKER = """\
error: make {target} needs Docker and its compose plugin: {reason}.
make dev-up runs PostgreSQL 15, Redis 7, RabbitMQ and the mock engine in containers
(deploy/compose/dev.yml). Without Docker: `make services` makes sure PostgreSQL, Redis and
RabbitMQ answer on their default loopback ports (it starts installed ones: the Debian packages
postgresql-15, redis-server and rabbitmq-server), and `make dev` runs against any stores
whose IAS_* variables you export; `make up` runs the whole platform on embedded defaults, with
no store to install at all."""


# --- up / down ---------------------------------------------------------------------------


def docker_problem() -> str | None:
    """Why Docker Compose cannot run here, or None when it can."""
    if shutil.which("docker") is None:
        return "there is no `docker` command here"
    if _quiet(["docker", "compose", "version"]) != 0:
        return "`docker compose version` fails (the compose plugin is missing)"
    if _quiet(["docker", "info"]) != 0:
        return "the Docker daemon does not answer (`docker info` fails)"
    return None


def _quiet(command: Sequence[str]) -> int:
    try:
        return subprocess.run(command, capture_output=True, timeout=60, check=False).returncode
    except (OSError, subprocess.TimeoutExpired):
        return 1


def _compose(*args: str) -> list[str]:
    return ["docker", "compose", "-f", str(COMPOSE_FILE), *args]


def up() -> int:
    problem = docker_problem()
    if problem is not None:
        print(NO_DOCKER.format(target="dev-up", reason=problem), file=sys.stderr)
        return 1
    # --wait: until every healthcheck passes (the mock engine's image is built on first use).
    done = subprocess.run(
        _compose("up", "--detach", "--wait", "--wait-timeout", "300"), check=False
    )
    if done.returncode != 0:
        print("error: the dev services did not become healthy; see `docker compose -f "
              f"{COMPOSE_FILE.relative_to(ROOT)} logs`", file=sys.stderr)  # fmt: skip
        return done.returncode
    text = render_env(dev_environment(keep_secrets(read_env_file(ENV_FILE))))
    write_env_file(ENV_FILE, text)
    print(f"\n# Written to {ENV_FILE.name}; paste into a shell, or `source {ENV_FILE.name}`:")
    print(text, end="")
    print("\n# Next: `make dev` runs IAS from source against these services.")
    return 0


def down(volumes: bool) -> int:
    problem = docker_problem()
    if problem is not None:
        print(NO_DOCKER.format(target="dev-down", reason=problem), file=sys.stderr)
        return 1
    args = ["down", "--remove-orphans"] + (["--volumes"] if volumes else [])
    code = subprocess.run(_compose(*args), check=False).returncode
    if code == 0 and volumes:
        # The router's spool holds usage events of the database just deleted.
        shutil.rmtree(DEV_HOME, ignore_errors=True)
    return code


# --- .env.dev ------------------------------------------------------------------------------


def keep_secrets(existing: Mapping[str, str]) -> dict[str, str]:
    """The secrets of an earlier .env.dev where they are usable, new ones where not."""
    kept = {}
    for name in SECRETS:
        value = existing.get(name, "")
        kept[name] = value if len(value) >= MIN_SECRET_LENGTH else secrets.token_urlsafe(48)
    return kept


def dev_environment(secret_values: Mapping[str, str], home: Path = DEV_HOME) -> dict[str, str]:
    """Every variable `make dev` needs for the services of deploy/compose/dev.yml, in order."""
    auth = f"{DEV_USER}:{DEV_PASSWORD}"
    return {
        # Production mode: every store is the real one, nothing falls back to SQLite or memory.
        "IAS_MODE": "production",
        "IAS_HOME": str(home),  # the router's usage spool
        "IAS_DATABASE_URL": f"postgresql+asyncpg://{auth}@127.0.0.1:{POSTGRES_PORT}/{DEV_DATABASE}",
        "IAS_REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "IAS_RABBITMQ_URL": f"amqp://{auth}@127.0.0.1:{RABBITMQ_PORT}/",
        "IAS_JWT_SECRET": secret_values["IAS_JWT_SECRET"],
        "IAS_API_KEY_SECRET": secret_values["IAS_API_KEY_SECRET"],
        "IAS_ENCRYPTION_KEY": secret_values["IAS_ENCRYPTION_KEY"],
        "IAS_CONTROL__PUBLIC_URL": f"http://127.0.0.1:{PORTAL_PORT}",
        "IAS_LOG_FORMAT": "text",
        # Read by `make dev` (deploy/compose/bootstrap.sh), not by the IAS processes.
        "IAS_ADMIN_EMAIL": ADMIN_EMAIL,
        "IAS_ADMIN_PASSWORD": secret_values["IAS_ADMIN_PASSWORD"],
        "IAS_DEMO_BACKEND": f"http://127.0.0.1:{ENGINE_PORT}/v1",
    }


def render_env(variables: Mapping[str, str]) -> str:
    lines = [
        "# IAS development settings for deploy/compose/dev.yml, written by `make dev-up`.",
        "# Development only (known passwords, services on 127.0.0.1); never commit it.",
    ]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]
    return "\n".join(lines) + "\n"


def parse_env(text: str) -> dict[str, str]:
    """`NAME=value` and `export NAME=value` lines; comments and blank lines are skipped."""
    variables = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if sep and name.strip().isidentifier():
            parts = shlex.split(value, comments=True)
            variables[name.strip()] = parts[0] if parts else ""
    return variables


def read_env_file(path: Path) -> dict[str, str]:
    try:
        return parse_env(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def write_env_file(path: Path, text: str) -> None:
    # It holds secrets: 0600, from the moment it exists.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)


# --- run: the processes, supervised ----------------------------------------------------------


@dataclass
class Child:
    name: str
    argv: list[str]
    cwd: Path = ROOT
    process: subprocess.Popen[bytes] | None = None


class Supervisor:
    """Runs commands side by side, their output line by line behind their names; when one
    ends, or on Ctrl-C or SIGTERM, stops them all (each in its own process group, so npm's
    and the reloaders' children go too) and returns the first exit code that was not 0."""

    def __init__(self, env: Mapping[str, str], out: IO[str] = sys.stdout) -> None:
        self.env = dict(env)
        self.out = out
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._pumps: list[threading.Thread] = []

    def add(self, name: str, argv: Sequence[str], cwd: Path = ROOT) -> None:
        self.children.append(Child(name, list(argv), cwd))

    def say(self, name: str, line: str) -> None:
        width = max((len(child.name) for child in self.children), default=len(name))
        with self._lock:
            self.out.write(f"{name:>{width}} | {line.rstrip()}\n")
            self.out.flush()

    def _pump(self, child: Child, stream: IO[bytes]) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                self.say(child.name, raw.decode(errors="replace"))

    def start(self) -> None:
        for child in self.children:
            child.process = subprocess.Popen(
                child.argv,
                cwd=child.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the supervisor only, which stops all
            )
            assert child.process.stdout is not None
            pump = threading.Thread(
                target=self._pump, args=(child, child.process.stdout), daemon=True
            )
            pump.start()
            self._pumps.append(pump)

    def run(self, poll_seconds: float = 0.2) -> int:
        previous = {
            signum: signal.signal(signum, lambda *_: self.stopping.set())
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        code = 0
        try:
            self.start()
            while not self.stopping.is_set():
                ended = [c for c in self.children if c.process and c.process.poll() is not None]
                if ended:
                    child = ended[0]
                    code = child.process.returncode if child.process else 1
                    self.say(child.name, f"exited with code {code}: stopping everything")
                    code = code or 1  # a process of a dev session is not meant to end
                    break
                self.stopping.wait(poll_seconds)
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return code

    def stop(self, grace_seconds: float = 10.0) -> None:
        running = [c for c in self.children if c.process and c.process.poll() is None]
        for child in running:
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(child.name, "did not stop in time: killed")
                _signal_group(child, signal.SIGKILL)
                child.process.wait()
        for pump in self._pumps:  # the last lines of each, until its pipe closes
            pump.join(timeout=2)


def _signal_group(child: Child, signum: int) -> None:
    assert child.process is not None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.process.pid, signum)


def run(env_file: Path = ENV_FILE, environ: Mapping[str, str] = os.environ) -> int:
    file_values = read_env_file(env_file)
    # As with any .env file, a variable already set in the environment wins over the file.
    env = {**file_values, **environ, "PYTHONUNBUFFERED": "1"}
    if not env.get("IAS_DATABASE_URL"):
        print(
            f"error: no {env_file.name} here and no IAS_DATABASE_URL in the environment: run "
            "`make dev-up` first (or export the IAS_* variables of your own services)",
            file=sys.stderr,
        )
        return 1
    bin_dir = Path(sys.executable).parent
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["IAS_URL"] = f"http://127.0.0.1:{GATEWAY_PORT}"  # where the portal's dev server proxies to
    ias = str(bin_dir / "ias")

    print("dev: migrating the database (ias migrate)", flush=True)
    if subprocess.run([ias, "migrate"], env=env, check=False).returncode != 0:
        return 1

    supervisor = Supervisor(env)
    supervisor.add("control", [ias, "serve", "control", "--reload", "--port", str(CONTROL_PORT)])
    supervisor.add("router", [ias, "serve", "router", "--reload", "--port", str(ROUTER_PORT)])
    # The worker serves no HTTP, so uvicorn's reloader is not for it: watchfiles restarts it.
    supervisor.add(
        "worker",
        [str(bin_dir / "watchfiles"), "--filter", "python", "--target-type", "command",
         f"{shlex.quote(ias)} worker usage", str(ROOT / "src" / "ias")],
    )  # fmt: skip
    supervisor.add("gateway", [sys.executable, str(Path(__file__).resolve()), "gateway"])
    supervisor.add(
        "portal",
        ["npm", "run", "dev", "--", "--host", "127.0.0.1", "--port", str(PORTAL_PORT),
         "--strictPort"],
        cwd=WEB,
    )  # fmt: skip
    bootstrap = threading.Thread(target=_bootstrap, args=(supervisor, env), daemon=True)
    bootstrap.start()
    return supervisor.run()


def _bootstrap(supervisor: Supervisor, env: Mapping[str, str]) -> None:
    """Once the control plane answers: the first super admin and the demo model, both only
    when missing (deploy/compose/bootstrap.sh, as the compose stack does)."""
    if not env.get("IAS_ADMIN_PASSWORD") or not env.get("IAS_DEMO_BACKEND"):
        return
    control = f"http://127.0.0.1:{CONTROL_PORT}"
    deadline = time.monotonic() + 120
    while not _answers(f"{control}/health"):
        if supervisor.stopping.wait(1) or time.monotonic() > deadline:
            return
    steps = {
        **env,
        "IAS_CONTROL_URL": control,
        "IAS_DEMO_MODEL": "demo-chat",
        # ias-admin's session for this, apart from the developer's own.
        "XDG_CONFIG_HOME": str(DEV_HOME / "config"),
    }
    done = subprocess.run(
        ["bash", str(BOOTSTRAP)], env=steps, capture_output=True, text=True, check=False
    )
    for line in (done.stdout + done.stderr).splitlines():
        supervisor.say("bootstrap", line)
    if done.returncode == 0:
        supervisor.say(
            "bootstrap",
            f"portal: http://127.0.0.1:{PORTAL_PORT} (gateway: http://127.0.0.1:{GATEWAY_PORT}); "
            f"sign in as {env['IAS_ADMIN_EMAIL']} with IAS_ADMIN_PASSWORD from {ENV_FILE.name}",
        )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return bool(response.status == 200)
    except OSError:
        return False


# --- gateway: /v1 to the router, the rest to the control plane --------------------------------

# Hop-by-hop headers (RFC 9110, 7.6.1) belong to one connection and are not forwarded.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "proxy-connection"}
)  # fmt: skip


def gateway_app(control: str, router: str) -> Any:
    """An aiohttp app that forwards each request as it comes, streaming both ways, as
    deploy/compose/gateway.conf does in front of the compose stack."""
    from aiohttp import ClientError, ClientSession, ClientTimeout, web
    from multidict import CIMultiDict

    session_key = web.AppKey("session", ClientSession)

    async def forward(request: web.Request) -> web.StreamResponse:
        upstream = router if request.path.startswith("/v1") else control
        headers = CIMultiDict(
            (k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP
        )
        headers["X-Forwarded-For"] = request.remote or ""
        session = request.app[session_key]
        try:
            async with session.request(
                request.method,
                upstream + request.rel_url.raw_path_qs,
                headers=headers,
                data=request.content if request.body_exists else None,
                allow_redirects=False,
                auto_decompress=False,
            ) as answer:
                response = web.StreamResponse(status=answer.status, reason=answer.reason)
                for name, value in answer.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        response.headers.add(name, value)
                await response.prepare(request)
                async for chunk in answer.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
                return response
        except ClientError as exc:
            return web.Response(status=502, text=f"dev gateway: {upstream} did not answer: {exc}\n")

    async def session_context(app: web.Application) -> Any:
        app[session_key] = ClientSession(
            timeout=ClientTimeout(total=None, sock_connect=5), auto_decompress=False
        )
        yield
        await app[session_key].close()

    app = web.Application()
    app.cleanup_ctx.append(session_context)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def gateway(port: int = GATEWAY_PORT) -> int:
    from aiohttp import web

    control, router = f"http://127.0.0.1:{CONTROL_PORT}", f"http://127.0.0.1:{ROUTER_PORT}"
    print(f"dev gateway on http://127.0.0.1:{port}: /v1 to {router}, the rest to {control}")
    web.run_app(gateway_app(control, router), host="127.0.0.1", port=port, print=None)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the dev services and write .env.dev")
    down_parser = commands.add_parser("down", help="stop and remove the dev services")
    down_parser.add_argument("--volumes", action="store_true", help="delete their data too")
    commands.add_parser("run", help="run IAS from source against them (make dev)")
    commands.add_parser("gateway", help="the gateway on :8000 alone")
    args = parser.parse_args(argv)
    if args.command == "up":
        return up()
    if args.command == "down":
        return down(args.volumes)
    if args.command == "run":
        return run()
    return gateway()


if __name__ == "__main__":
    sys.exit(main())
