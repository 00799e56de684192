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

    host: str = "127.0.0.1"
    port: Port = 8000
    # Slow clients: headers must arrive this fast, or the connection is closed.
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    # Huge heads: a request line and headers over this many bytes get 431 and a closed
    # connection, before the server buffers more of them.
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)


class RouterSettings(BaseModel):
    key_cache_ttl_seconds: float = Field(default=60.0, gt=0)
    negative_key_cache_ttl_seconds: float = Field(default=5.0, gt=0)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    first_token_timeout_seconds: float = Field(default=120.0, gt=0)
    between_chunks_timeout_seconds: float = Field(default=60.0, gt=0)
    total_timeout_seconds: float = Field(default=600.0, gt=0)
    body_read_seconds: float = Field(default=30.0, gt=0)
    catalog_refresh_seconds: float = Field(default=30.0, gt=0)
    probe_interval_seconds: float = Field(default=5.0, gt=0)
    last_used_interval_seconds: float = Field(default=5.0, gt=0)
    # The usage spool: events wait on disk here until the ledger has them. One directory per
    # router process (it is locked); default <home>/spool.
    spool_dir: Path | None = None
    # When the spool holds this much (the broker has been away long), new requests get 503.
    spool_max_bytes: int = Field(default=1024**3, ge=1024 * 1024)
    # At shutdown, how long to keep delivering spooled events before leaving them for next start.
    drain_seconds: float = Field(default=10.0, ge=0)


class ControlSettings(BaseModel):
    access_token_ttl_seconds: int = Field(default=900, ge=30)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=300)
    allow_org_creation: bool = True
    public_url: str = "http://127.0.0.1:8000"
    max_concurrent_password_hashes: int = Field(default=4, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Slow bodies: a request body must arrive within this many seconds of its headers, or 408.
    body_read_seconds: float = Field(default=30.0, gt=0)


class AnalyticsSettings(BaseModel):
    """The usage ledger's worker (`ias worker usage`) and partition upkeep."""

    partitions_ahead_months: int = Field(default=3, ge=1, le=24)
    # A batch is stored (one transaction) when it holds this many events or when its first
    # message has waited this long, whichever comes first.
    batch_max_events: int = Field(default=5000, ge=1, le=100_000)
    batch_max_wait_ms: int = Field(default=100, ge=1, le=60_000)
    # Unacknowledged messages the broker may hand the consumer. A message holds up to 1,000
    # events (~0.5 MB), so this bounds the consumer's memory at roughly prefetch x 0.5 MB.
    prefetch: int = Field(default=200, ge=1, le=65_535)
    # Raw events are kept at least this long (whole months are dropped on PostgreSQL); rollups
    # are kept forever. 0 keeps raw events forever too.
    retention_days: int = Field(default=400, ge=0)
    maintenance_interval_seconds: float = Field(default=3600.0, gt=0)
    # `ias worker usage` serves no HTTP: with a port set it also serves /metrics there.
    # (`ias serve analytics` serves /metrics on its own port and ignores these.)
    metrics_port: Port | None = None
    metrics_host: str = "127.0.0.1"

    @field_validator("retention_days")
    @classmethod
    def _retention_covers_a_month(cls, value: int) -> int:
        # Under a month, a redelivery could outlive the raw row that makes it a duplicate.
        if 0 < value < 31:
            raise ValueError("must be 0 (keep forever) or at least 31 days")
        return value


class EngineSettings(BaseModel):
    """The built-in vLLM look-alike engine (`ias serve mock-engine` and the demo models)."""

    prompt_seconds_per_token: float = Field(default=0.0, ge=0)
    seconds_per_token: float = Field(default=0.0, ge=0)
    max_concurrency: int = Field(default=64, ge=1)
    max_model_len: int = Field(default=4096, ge=16)
    chat_models: list[str] = ["demo-chat"]
    embedding_models: list[str] = ["demo-embed"]


class OtelSettings(BaseModel):
    """Trace export: OpenTelemetry spans over OTLP/HTTP, off unless a collector is named.

    `IAS_OTEL__ENDPOINT`, else the standard `OTEL_EXPORTER_OTLP_ENDPOINT`, is the collector's
    base URL (e.g. http://collector:4318); spans go to its /v1/traces. The exporter reads the
    other standard variables itself (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`, ...).
    """

    endpoint: str | None = None
    # Share of new traces kept; a request arriving with a trace follows its caller's decision.
    sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)

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

    mode: Mode = Mode.EMBEDDED
    home: Path = Path(".ias")
    database_url: str | None = None
    redis_url: str | None = None
    rabbitmq_url: str | None = None
    # Lets several installations (or test runs) share one Redis without seeing each other.
    redis_key_prefix: str = Field(default="ias:", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")

    jwt_secret: SecretStr | None = None
    api_key_secret: SecretStr | None = None
    encryption_key: SecretStr | None = None

    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.JSON

    server: ServerSettings = ServerSettings()
    router: RouterSettings = RouterSettings()
    control: ControlSettings = ControlSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    engine: EngineSettings = EngineSettings()
    otel: OtelSettings = OtelSettings()
    # The standard OpenTelemetry variable, honoured when IAS_OTEL__ENDPOINT is not set.
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT"
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
