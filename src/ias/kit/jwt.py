"""Short-lived access tokens (JWT) with one pinned algorithm.

Only HS256 is ever accepted, whatever the token's header claims: that closes `alg=none` and
the HS/RS key-confusion attack. `exp`, `iat`, `aud`, `iss`, `jti` and `sub` are required and
checked on every decode; a token with a future `nbf` is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "aud", "iss", "jti", "sub"]
LEEWAY_SECONDS = 5


class InvalidToken(Exception):
    """The token is malformed, forged, expired or meant for someone else."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    subject: str
    session: str
    token_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenIssuer:
    secret: str
    issuer: str
    audience: str
    ttl: timedelta

    def issue(self, subject: str, session: str, now: datetime) -> tuple[str, datetime]:
        expires_at = now + self.ttl
        payload = {
            "sub": subject,
            "sid": session,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(payload, self.secret, algorithm=ALGORITHM), expires_at

    def verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS, "verify_signature": True},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        subject, session = claims.get("sub"), claims.get("sid")
        if not isinstance(subject, str) or not isinstance(session, str):
            raise InvalidToken("token has no subject or session")
        return AccessClaims(
            subject=subject,
            session=session,
            token_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
        )
