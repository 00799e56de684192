"""One settings tree for every IAS process.

Everything comes from `IAS_*` environment variables (nested sections use `__`, e.g.
`IAS_ROUTER__KEY_CACHE_TTL_SECONDS=30`). `os.getenv` appears nowhere else in the code.

Two modes:

* ``embedded`` (the default, what `ias up` uses): every store has an in-process or file
  default under ``IAS_HOME``, and the secrets are generated once into ``IAS_HOME/secrets.json``
  (mode 0600).
* ``production``: the database, Redis and RabbitMQ URLs and every secret must be given
  explicitly; a missing one stops the process with a message naming the variable.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_NAMES = ("jwt_secret", "api_key_secret", "encryption_key")
MIN_SECRET_LENGTH = 32


class Mode(enum.StrEnum):
    EMBEDDED = "embedded"
    PRODUCTION = "production"


class LogFormat(enum.StrEnum):
    JSON = "json"
    TEXT = "text"


Port = Annotated[int, Field(ge=1, le=65535)]


class ServerSettings(BaseModel):
    """Where `ias up` and `ias serve` listen unless told otherwise on the command line."""

    host: str = Field(
        default="127.0.0.1",
        description="Interface to listen on; `--host` overrides it. `0.0.0.0` listens on all.",
    )
    port: Port = Field(default=8000, description="Port to listen on; `--port` overrides it.")
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Slow clients: a request's headers must all arrive within this many seconds, or "
            "the connection is closed."
        ),
    )
    max_header_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description=(
            "Huge heads: a request line and headers over this many bytes get 431 and a closed "
            "connection, before the server buffers more of them."
        ),
    )


class RouterSettings(BaseModel):
    """The `/v1` router (`ias serve router`, and inside `ias up`)."""

    key_cache_ttl_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "How long a resolved API key is cached in each router process. Revocations are "
            "pushed at once; this bounds how long a lost notification can go unnoticed."
        ),
    )
    negative_key_cache_ttl_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long an unknown key is remembered as unknown, sparing the database.",
    )
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="Request bodies over this size get 413 (at once when their length says so).",
    )
    connect_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Connecting to a backend; past it, the next backend is tried.",
    )
    first_token_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Waiting for a backend's first byte (for streams: its first event).",
    )
    between_chunks_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Longest silence between two chunks of a backend's answer; also how long a client "
            "that stops reading is waited for before it is cut off (and billed)."
        ),
    )
    total_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        description=(
            "Longest a request may take from end to end. Concurrency leases expire a little "
            "after it, so a crashed router holds no slot for longer."
        ),
    )
    body_read_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A request body must arrive within this many seconds of its headers, or 408.",
    )
    catalog_refresh_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "How often the model catalog is reloaded from the database, besides the pushed changes."
        ),
    )
    probe_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often every backend's `/health` is probed."
    )
    last_used_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often keys' `last_used_at` is written, in one batch, off the hot path.",
    )
    spool_dir: Path | None = Field(
        default=None,
        description=(
            "The usage spool: events wait on disk here until the ledger has them. One directory "
            "per router process (it is locked); unset means `IAS_HOME/spool`."
        ),
    )
    spool_max_bytes: int = Field(
        default=1024**3,
        ge=1024 * 1024,
        description=(
            "When the spool holds this much (the broker has been away long), new requests get "
            "503. With `--workers N` it applies to each worker's slot."
        ),
    )
    drain_seconds: float = Field(
        default=10.0,
        ge=0,
        description=(
            "At shutdown, how long to keep delivering spooled events before leaving them for "
            "the next start."
        ),
    )


class ControlSettings(BaseModel):
    """The control plane (`/api` and the portal: `ias serve control`, and inside `ias up`)."""

    access_token_ttl_seconds: int = Field(
        default=900, ge=30, description="Lifetime of an access token (JWT)."
    )
    refresh_token_ttl_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=300,
        description="Lifetime of a refresh token (the `ias_refresh` cookie); each use rotates it.",
    )
    allow_org_creation: bool = Field(
        default=True,
        description="Whether any signed-in user may create an org; false: super admins only.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address people reach IAS at; invite links are built from it.",
    )
    max_concurrent_password_hashes: int = Field(
        default=4,
        ge=1,
        description=(
            "Password hashes (argon2id, 64 MiB each) computed at once per process; more wait."
        ),
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Request bodies over this size get 413."
    )
    body_read_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Slow bodies: a request body must arrive within this many seconds of its headers, "
            "or 408."
        ),
    )


class AnalyticsSettings(BaseModel):
    """The usage ledger's worker (`ias worker usage`) and partition upkeep."""

    partitions_ahead_months: int = Field(
        default=3,
        ge=1,
        le=24,
        description="Monthly `usage_events` partitions created ahead of time (PostgreSQL).",
    )
    batch_max_events: int = Field(
        default=5000,
        ge=1,
        le=100_000,
        description=(
            "A batch is stored (one transaction) when it holds this many events or when its "
            "first message has waited `BATCH_MAX_WAIT_MS`, whichever comes first."
        ),
    )
    batch_max_wait_ms: int = Field(
        default=100,
        ge=1,
        le=60_000,
        description="How long a batch waits to fill once its first message is in.",
    )
    prefetch: int = Field(
        default=200,
        ge=1,
        le=65_535,
        description=(
            "Unacknowledged messages the broker may hand the consumer. A message holds up to "
            "1,000 events (~0.5 MB), so this bounds the consumer's memory at roughly "
            "prefetch x 0.5 MB."
        ),
    )
    retention_days: int = Field(
        default=400,
        ge=0,
        description=(
            "Raw events are kept at least this long (whole months are dropped on PostgreSQL); "
            "rollups are kept forever. 0 keeps raw events forever too; otherwise at least 31."
        ),
    )
    maintenance_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often partitions are created ahead and retention is applied.",
    )
    metrics_port: Port | None = Field(
        default=None,
        description=(
            "`ias worker usage` serves no HTTP: with a port set it also serves /metrics there. "
            "(`ias serve analytics` serves /metrics on its own port and ignores this.)"
        ),
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description=(
            "Address the worker's metrics listen on; `0.0.0.0` lets a scraper on another host in."
        ),
    )

    @field_validator("retention_days")
    @classmethod
    def _retention_covers_a_month(cls, value: int) -> int:
        # Under a month, a redelivery could outlive the raw row that makes it a duplicate.
        if 0 < value < 31:
            raise ValueError("must be 0 (keep forever) or at least 31 days")
        return value


class EngineSettings(BaseModel):
    """The built-in vLLM look-alike engine (`ias serve mock-engine` and the demo models)."""

    prompt_seconds_per_token: float = Field(
        default=0.0, ge=0, description="Simulated prefill time per prompt token."
    )
    seconds_per_token: float = Field(
        default=0.0, ge=0, description="Simulated time per generated token."
    )
    max_concurrency: int = Field(
        default=64, ge=1, description="Requests generating at once; the rest wait in order."
    )
    max_model_len: int = Field(
        default=4096, ge=16, description="Context length of the engine's models, in tokens."
    )
    chat_models: list[str] = Field(
        default=["demo-chat"],
        description="Chat and completion models the engine serves (a JSON list).",
    )
    embedding_models: list[str] = Field(
        default=["demo-embed"], description="Embedding models the engine serves (a JSON list)."
    )


class OtelSettings(BaseModel):
    """Trace export: OpenTelemetry spans over OTLP/HTTP, off unless a collector is named.

    `IAS_OTEL__ENDPOINT`, else the standard `OTEL_EXPORTER_OTLP_ENDPOINT`, is the collector's
    base URL (e.g. http://collector:4318); spans go to its /v1/traces. The exporter reads the
    other standard variables itself (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`, ...).
    """

    endpoint: str | None = Field(
        default=None,
        description=(
            "The OTLP/HTTP collector's base URL (`http://` or `https://`); spans go to its "
            "`/v1/traces`. Unset: no spans are exported."
        ),
    )
    sample_ratio: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description=(
            "Share of new traces kept; a request arriving with a trace follows its caller's "
            "decision."
        ),
    )

    @field_validator("endpoint")
    @classmethod
    def _http_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("IAS_OTEL__ENDPOINT must start with http:// or https://")
        return value or None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="IAS_",
        env_nested_delimiter="__",
        extra="ignore",
        case_sensitive=False,
    )

    mode: Mode = Field(
        default=Mode.EMBEDDED,
        description=(
            "`embedded`: every store has an in-process or file default under `IAS_HOME`. "
            "`production`: the database, Redis and RabbitMQ URLs and the three secrets are "
            "required, and a missing one stops the process naming it."
        ),
    )
    home: Path = Field(
        default=Path(".ias"),
        description=(
            "The embedded mode's data folder: the SQLite database, `secrets.json` and the usage "
            "spool."
        ),
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "`postgresql+asyncpg://…` (a plain `postgresql://` URL is accepted) or "
            "`sqlite+aiosqlite://…`. Unset: the SQLite file `IAS_HOME/ias.db`."
        ),
    )
    redis_url: str | None = Field(
        default=None,
        description=(
            "`redis://`, `rediss://` or `unix://`. Unset: the limiter, login throttle and "
            "notifications stay inside each process."
        ),
    )
    rabbitmq_url: str | None = Field(
        default=None,
        description=(
            "`amqp://` or `amqps://`. Unset: the router's spool feeds the ledger in-process."
        ),
    )
    redis_key_prefix: str = Field(
        default="ias:",
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description=(
            "Prefix of every Redis key. Lets several installations (or test runs) share one "
            "Redis without seeing each other."
        ),
    )

    jwt_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Signs access tokens (HS256). At least 32 characters; generated into "
            "`IAS_HOME/secrets.json` in embedded mode."
        ),
    )
    api_key_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Key of the HMAC-SHA256 under which API keys are stored, and of the per-org prefix "
            "cache salt. At least 32 characters; generated in embedded mode."
        ),
    )
    encryption_key: SecretStr | None = Field(
        default=None,
        description=(
            "Backend API keys are stored encrypted under a key derived from it (Fernet). At "
            "least 32 characters; generated in embedded mode."
        ),
    )

    log_level: str = Field(
        default="INFO", description="`DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`."
    )
    log_format: LogFormat = Field(
        default=LogFormat.JSON,
        description="`json`: one JSON object per line; `text`: for reading in a terminal.",
    )

    server: ServerSettings = ServerSettings()
    router: RouterSettings = RouterSettings()
    control: ControlSettings = ControlSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    engine: EngineSettings = EngineSettings()
    otel: OtelSettings = OtelSettings()
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT",
        description=(
            "The standard OpenTelemetry variable, honoured when `IAS_OTEL__ENDPOINT` is not set."
        ),
    )

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = value.split("://", 1)[0]
        if scheme in ("postgresql", "postgres"):
            # Operators paste plain libpq URLs; the async driver is ours to choose.
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if scheme not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
            raise ValueError(
                "IAS_DATABASE_URL must start with postgresql+asyncpg:// or sqlite+aiosqlite://"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("IAS_REDIS_URL must start with redis://, rediss:// or unix://")
        return value

    @field_validator("rabbitmq_url")
    @classmethod
    def _amqp_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("amqp://", "amqps://")):
            raise ValueError("IAS_RABBITMQ_URL must start with amqp:// or amqps://")
        return value

    @field_validator("jwt_secret", "api_key_secret", "encryption_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @property
    def trace_endpoint(self) -> str | None:
        """Where this process sends spans; None keeps tracing off."""
        return self.otel.endpoint or self.otel_exporter_otlp_endpoint or None

    @property
    def sqlite_path(self) -> Path:
        return self.home / "ias.db"

    @property
    def effective_database_url(self) -> str:
        """The configured database, or the embedded SQLite file in `IAS_HOME`."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.sqlite_path.resolve()}"

    def secret(self, name: str) -> str:
        """A secret's value; `ias.secrets.resolve_secrets` must have filled it in first."""
        value = getattr(self, name)
        if value is None:
            raise RuntimeError(f"secret {name} was never resolved")
        return str(value.get_secret_value())
