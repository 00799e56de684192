"""Symmetric encryption of small secrets kept in the database (backend API keys).

Fernet (AES-128-CBC with HMAC-SHA256) authenticates every token, so a ciphertext that was
altered, truncated or encrypted under another key is refused rather than decrypted to garbage.
The Fernet key is derived from the server's encryption secret with HKDF-SHA256 and a fixed
purpose label: the same secret yields the same key on every process, and the secret itself is
never used directly as a key for anything else.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

BACKEND_KEYS_PURPOSE = b"ias backend api keys"
_FERNET_KEY_BYTES = 32


class DecryptionError(Exception):
    """A stored ciphertext cannot be read: it was altered, or encrypted under another secret."""


def derive_fernet_key(secret: str, purpose: bytes = BACKEND_KEYS_PURPOSE) -> bytes:
    if not secret:
        raise ValueError("the encryption secret is empty")
    raw = HKDF(algorithm=hashes.SHA256(), length=_FERNET_KEY_BYTES, salt=None, info=purpose).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


class Encryptor:
    """Encrypts text to an ASCII token and back, under a key derived from `secret`."""

    def __init__(self, secret: str, purpose: bytes = BACKEND_KEYS_PURPOSE) -> None:
        self._fernet = Fernet(derive_fernet_key(secret, purpose))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise DecryptionError(
                "The stored secret cannot be decrypted: it was altered, or it was encrypted "
                "under a different encryption secret (was the secret changed?)."
            ) from exc
