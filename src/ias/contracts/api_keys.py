"""The API key format, shared by the control plane (which mints keys) and the router.

A key looks like ``ias_<body><check>``:

* ``body`` — 32 base62 characters drawn uniformly at random (190 bits of randomness);
* ``check`` — 6 base62 characters of CRC-32 over ``ias_<body>``.

CRC-32 detects every error burst of up to 32 bits, so any single-character typo and any swap
of two neighbouring characters is rejected by `parse_key` without touching a store, and a made-
up key passes only with probability 2⁻³². Keys are stored only as HMAC-SHA256 under a server
secret (`hash_key`); the first characters (`display_prefix`) are kept in clear so people can
tell their keys apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib

PREFIX = "ias_"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_LENGTH = 32
CHECK_LENGTH = 6
KEY_LENGTH = len(PREFIX) + BODY_LENGTH + CHECK_LENGTH
DISPLAY_LENGTH = len(PREFIX) + 8
_INDEX = {char: value for value, char in enumerate(ALPHABET)}


def _encode(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        chars.append(ALPHABET[digit])
    if value:
        raise ValueError("value does not fit the width")
    return "".join(reversed(chars))


def _checksum(text: str) -> str:
    return _encode(zlib.crc32(text.encode("ascii")), CHECK_LENGTH)


def generate_key() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    head = PREFIX + body
    return head + _checksum(head)


def is_well_formed(key: str) -> bool:
    """True when `key` has the right shape and checksum; no I/O, constant work."""
    if len(key) != KEY_LENGTH or not key.startswith(PREFIX):
        return False
    tail = key[len(PREFIX) :]
    if any(char not in _INDEX for char in tail):
        return False
    head = key[: len(PREFIX) + BODY_LENGTH]
    return hmac.compare_digest(_checksum(head), key[-CHECK_LENGTH:])


def display_prefix(key: str) -> str:
    return key[:DISPLAY_LENGTH]


def hash_key(key: str, secret: str) -> str:
    """The only form in which a key is stored: HMAC-SHA256 under the server's key secret."""
    return hmac.new(secret.encode(), key.encode("ascii"), hashlib.sha256).hexdigest()
