"""Backend API keys are encrypted at rest and refuse to decrypt once tampered with."""

from __future__ import annotations

import pytest

from ias.kit.crypto import DecryptionError, Encryptor, derive_fernet_key

SECRET = "e" * 48


def test_round_trip() -> None:
    encryptor = Encryptor(SECRET)
    token = encryptor.encrypt("sk-upstream-Ünïcode-123")
    assert "sk-upstream" not in token
    assert token.isascii()
    assert encryptor.decrypt(token) == "sk-upstream-Ünïcode-123"


def test_same_secret_decrypts_on_another_process() -> None:
    token = Encryptor(SECRET).encrypt("sk-abc")
    assert Encryptor(SECRET).decrypt(token) == "sk-abc"


def test_each_encryption_is_fresh() -> None:
    encryptor = Encryptor(SECRET)
    assert encryptor.encrypt("sk-abc") != encryptor.encrypt("sk-abc")


def test_a_different_secret_cannot_decrypt() -> None:
    token = Encryptor(SECRET).encrypt("sk-abc")
    with pytest.raises(DecryptionError, match="different encryption secret"):
        Encryptor("f" * 48).decrypt(token)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        lambda token: token[:20],
        lambda token: "",
        lambda token: "not a token at all",
        lambda token: "ünïcode",
    ],
)
def test_tampered_tokens_are_refused(tamper: object) -> None:
    encryptor = Encryptor(SECRET)
    token = encryptor.encrypt("sk-abc")
    assert callable(tamper)
    with pytest.raises(DecryptionError):
        encryptor.decrypt(tamper(token))


def test_the_key_depends_on_the_purpose() -> None:
    assert derive_fernet_key(SECRET) != derive_fernet_key(SECRET, b"something else")
    assert derive_fernet_key(SECRET) == derive_fernet_key(SECRET)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        Encryptor("")
