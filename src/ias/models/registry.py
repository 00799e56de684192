"""The model catalogue and the backends that serve each model."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from ias.models.base import Base, created_at_column, id_column, str_enum, updated_at_column


class ModelKind(enum.StrEnum):
    CHAT = "chat"
    COMPLETION = "completion"
    EMBEDDING = "embedding"


class ModelEntry(Base):
    """A public model name. Prices are micro-dollars per million tokens."""

    __tablename__ = "models"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[ModelKind] = mapped_column(str_enum(ModelKind, "kind"))
    upstream_model: Mapped[str] = mapped_column(String(255))
    context_length: Mapped[int | None]
    input_price_micros_per_mtok: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0"
    )
    output_price_micros_per_mtok: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0"
    )
    # NULL bills cached prompt tokens at the input price.
    cached_input_price_micros_per_mtok: Mapped[int | None] = mapped_column(BigInteger)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Backend(Base):
    __tablename__ = "backends"
    __table_args__ = (
        UniqueConstraint("model_id", "url"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[uuid.UUID] = id_column()
    # No index of its own: the (model_id, url) unique constraint leads with it.
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    # Encrypted with the server's encryption key; NULL when the backend needs no key.
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[int] = mapped_column(default=1, server_default="1")
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = created_at_column()
