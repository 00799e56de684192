"""The usage ledger: one raw row per admitted request, and the rollups dashboards read.

Invariants the schema carries:

* An event is stored at most once. Its key is (event_id, ts): PostgreSQL partitions the table by
  `ts`, and a unique constraint on a partitioned table must contain the partition key. The
  consumer therefore inserts with `ON CONFLICT (event_id, ts) DO NOTHING`, and `ts` must be
  fixed when the event is minted (never the time it was consumed), or a redelivery would not
  collide with the first copy.
* No foreign keys on the ledger: an event for a key, user or org deleted meanwhile must still be
  accepted, because the tokens were really served.
* Rollups are keyed per (org, granularity, bucket, api key, model). A key belongs to one user, so
  `user_id` is carried as a plain column for grouping by user and is not part of the key.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ias.models.base import Base, str_enum


class Granularity(enum.StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


class UsageEvent(Base):
    __tablename__ = "usage_events"
    __table_args__ = (
        PrimaryKeyConstraint("event_id", "ts"),
        Index(None, "org_id", "ts"),
        {"postgresql_partition_by": "RANGE (ts)"},
    )

    event_id: Mapped[uuid.UUID]
    ts: Mapped[datetime]
    org_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID | None]
    api_key_id: Mapped[uuid.UUID]
    model: Mapped[str] = mapped_column(String(255))
    backend_id: Mapped[uuid.UUID | None]
    endpoint: Mapped[str] = mapped_column(String(64))
    http_status: Mapped[int]
    error_type: Mapped[str | None] = mapped_column(String(64))
    prompt_tokens: Mapped[int]
    completion_tokens: Mapped[int]
    cached_tokens: Mapped[int]
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    latency_ms: Mapped[int]
    ttft_ms: Mapped[int | None]
    stream: Mapped[bool]
    partial: Mapped[bool]
    # The W3C trace id of the request (32 hex digits): where to look for its trace and logs.
    trace_id: Mapped[str | None] = mapped_column(String(32))


class UsageRollup(Base):
    __tablename__ = "usage_rollups"
    __table_args__ = (
        # org_id leads so that a dashboard query (one org, one granularity, a bucket range)
        # is a range scan of the primary key and needs no second index.
        PrimaryKeyConstraint("org_id", "granularity", "bucket", "api_key_id", "model"),
    )

    org_id: Mapped[uuid.UUID]
    granularity: Mapped[Granularity] = mapped_column(str_enum(Granularity, "granularity"))
    bucket: Mapped[datetime]
    api_key_id: Mapped[uuid.UUID]
    model: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[uuid.UUID | None]
    requests: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cached_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cost_micros: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    errors: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
