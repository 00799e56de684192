"""Password hashing (argon2id) and the password policy.

Hashing is deliberately slow (tens of milliseconds and 64 MiB per hash); callers on an event
loop run it in a thread and bound how many run at once.
"""

from __future__ import annotations

import functools
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
# Hashing cost grows with the input; an upper bound keeps a login from becoming a DoS.
MAX_LENGTH = 1024
# A local part this short ("al", "x") would forbid far too many good passwords.
MIN_EMAIL_NAME_LENGTH = 3
# "abcabcabcabc" is as weak as "aaaaaaaaaaaa": reject any unit this short repeated.
MAX_REPEATED_UNIT = 4

# The second recommended option of RFC 9106 §4 (argon2id, t=3, m=64 MiB, p=4), spelled out so
# that a library upgrade never changes it behind our back; `needs_rehash` upgrades old hashes.
_HASHER = PasswordHasher(
    time_cost=3,
    memory_cost=64 * 1024,
    parallelism=4,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)

# Package data of the `ias` distribution, named by string so that `kit` imports nothing of ours.
_COMMON_PASSWORDS_PACKAGE = "ias"
_COMMON_PASSWORDS_RESOURCE = ("data", "common-passwords.txt")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True only when `password` matches; a wrong password or a broken hash is just False."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters (or is unreadable) and should be redone."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of well-known passwords, lowercase; read once, on first use."""
    resource = resources.files(_COMMON_PASSWORDS_PACKAGE).joinpath(*_COMMON_PASSWORDS_RESOURCE)
    lines = resource.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why `password` is refused, as a sentence for the person choosing it; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password must be at most {MAX_LENGTH} characters"
    if _is_short_unit_repeated(password):
        return "password must not be one character or a short pattern repeated"
    lowered = password.lower()
    if lowered in common_passwords():
        return "password is too common; choose one that is not on lists of leaked passwords"
    name = _email_name(email)
    if name and name in lowered:
        return "password must not contain the name of the email address"
    return None


def _is_short_unit_repeated(password: str) -> bool:
    for size in range(1, MAX_REPEATED_UNIT + 1):
        repeated = password[:size] * (len(password) // size + 1)
        if repeated[: len(password)] == password:
            return True
    return False


def _email_name(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    name = email.rsplit("@", 1)[0].strip().lower()
    return name if len(name) >= MIN_EMAIL_NAME_LENGTH else None
