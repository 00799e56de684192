"""Forged, expired and misdirected access tokens are all refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ias.kit.jwt import InvalidToken, TokenIssuer

SECRET = "s" * 48
ISSUER = TokenIssuer(secret=SECRET, issuer="ias", audience="ias-api", ttl=timedelta(minutes=15))
NOW = datetime.now(UTC)


def _claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "sub": "user-1",
        "sid": "family-1",
        "iss": "ias",
        "aud": "ias-api",
        "iat": int(NOW.timestamp()),
        "nbf": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(minutes=5)).timestamp()),
        "jti": "j1",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_issued_token_verifies() -> None:
    token, expires_at = ISSUER.issue("user-1", "family-1", NOW)
    claims = ISSUER.verify(token)
    assert (claims.subject, claims.session) == ("user-1", "family-1")
    assert abs((claims.expires_at - expires_at).total_seconds()) < 1


def test_alg_none_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    with pytest.raises(InvalidToken):
        ISSUER.verify(f"{header}.{payload}.")


def test_rs256_token_is_refused_even_with_a_valid_signature() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), private, algorithm="RS256")
    with pytest.raises(InvalidToken):
        ISSUER.verify(token)


def test_hs_rs_confusion_with_a_public_key_as_secret_is_refused() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    import hashlib
    import hmac

    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken):
        ISSUER.verify(f"{header}.{payload}.{_b64(signature)}")


@pytest.mark.parametrize(
    "claims",
    [
        _claims(exp=int((NOW - timedelta(minutes=1)).timestamp())),
        _claims(nbf=int((NOW + timedelta(minutes=10)).timestamp())),
        _claims(aud="someone-else"),
        _claims(iss="not-ias"),
        _claims(jti=None),
        _claims(sub=None),
        _claims(sid=None),
        _claims(iat=None),
    ],
    ids=["expired", "future-nbf", "wrong-aud", "wrong-iss", "no-jti", "no-sub", "no-sid", "no-iat"],
)
def test_bad_claims_are_refused(claims: dict[str, object]) -> None:
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        ISSUER.verify(token)


def test_other_secret_is_refused() -> None:
    token = jwt.encode(_claims(), "x" * 48, algorithm="HS256")
    with pytest.raises(InvalidToken):
        ISSUER.verify(token)


def test_tampered_payload_is_refused() -> None:
    token, _ = ISSUER.issue("user-1", "family-1", NOW)
    header, _, signature = token.split(".")
    forged = _b64(json.dumps(_claims(sub="admin")).encode())
    with pytest.raises(InvalidToken):
        ISSUER.verify(f"{header}.{forged}.{signature}")


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer ' OR '1'='1", "🙂.🙂.🙂"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        ISSUER.verify(garbage)
