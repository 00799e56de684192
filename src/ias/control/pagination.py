"""Keyset pagination cursors: an opaque token for the (time, id) of the last row of a page.

Pages ordered newest first by (time, id) stay stable while rows are added, unlike offsets.
The token is base64 of the position; anything that does not decode to one is a 400.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from ias.errors import InvalidRequest

Position = tuple[datetime, uuid.UUID]


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{at.isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Position | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, row_id = raw.split("|")
        position = datetime.fromisoformat(at), uuid.UUID(row_id)
        if position[0].tzinfo is None:
            raise ValueError("a cursor's timestamp always carries its zone")
        return position
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(
            "The cursor is not one this API returned; pass the `next_cursor` of a previous page.",
            param="cursor",
            code="invalid_cursor",
        ) from exc
