"""What attackers send, for the attack scenarios of tests/e2e/test_security.py.

Raw-socket HTTP (for clients that misbehave below what an HTTP library lets one do), forged
access tokens, injection payloads, malformed API keys, hostile bodies, and URLs where they do
not belong.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.stack import MODEL

ENVELOPE_FIELDS = {"message", "type", "param", "code"}


def is_error_envelope(response: httpx.Response) -> bool:
    """OpenAI's error body: `{"error": {"message", "type", "param", "code"}}` and nothing else."""
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict) and set(body) == {"error"} and set(body["error"]) == ENVELOPE_FIELDS
    )


# --- raw sockets ----------------------------------------------------------------------------


@contextlib.contextmanager
def raw_connection(url: str, receive_buffer: int | None = None) -> Iterator[socket.socket]:
    """A plain TCP connection to the server of `url`; `receive_buffer` (bytes) is set before
    connecting, so the kernel advertises a small window from the first packet on."""
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
        yield sock
    finally:
        sock.close()


def request_head(method: str, path: str, headers: dict[str, str], length: int | None) -> bytes:
    """An HTTP/1.1 request head as bytes; `length` becomes its content-length (None: none)."""
    lines = [f"{method} {path} HTTP/1.1", "host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if length is not None:
        lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def server_acted(sock: socket.socket) -> bool:
    """Whether the server has sent something or closed the connection; never blocks or reads."""
    try:
        sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False
    except ConnectionResetError:
        pass
    return True


def trickle(
    sockets: dict[str, socket.socket], data: bytes, every: float, patience: float
) -> dict[str, float | None]:
    """Send `data` one byte every `every` seconds on each socket until its server acts (answers
    or closes). The seconds each server took to act; None when it had not within `patience`."""
    started = time.monotonic()
    acted: dict[str, float] = {}
    sent = 0
    while len(acted) < len(sockets) and time.monotonic() - started < patience:
        elapsed = time.monotonic() - started
        waiting = {name: sock for name, sock in sockets.items() if name not in acted}
        for name, sock in waiting.items():
            if server_acted(sock):
                acted[name] = elapsed
            elif sent < len(data) and elapsed >= sent * every:
                with contextlib.suppress(OSError):
                    sock.sendall(data[sent : sent + 1])
        if elapsed >= sent * every:
            sent += 1
        time.sleep(0.02)
    return {name: acted.get(name) for name in sockets}


def read_available(sock: socket.socket, wait: float) -> bytes:
    """Whatever the server has sent, reading until it closes (or resets) the connection or
    `wait` seconds pass in silence."""
    sock.settimeout(wait)
    received = bytearray()
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        while chunk := sock.recv(65536):
            received += chunk
    return bytes(received)


def send_regardless(sock: socket.socket, data: bytes) -> None:
    """Send what the server will take: it may close the connection before it has all of it."""
    with contextlib.suppress(OSError):
        sock.sendall(data)


@contextlib.contextmanager
def listener() -> Iterator[socket.socket]:
    """A listening socket of the test's own: whoever connects shows up in its backlog."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        sock.setblocking(False)
        yield sock


def connections_to(sock: socket.socket) -> int:
    """How many connections a `listener` has received (accepting and closing them)."""
    count = 0
    while True:
        try:
            accepted, _ = sock.accept()
        except BlockingIOError:
            return count
        accepted.close()
        count += 1


def status_of(raw_response: bytes) -> int | None:
    """The status code of a raw response; None when there is none (the server said nothing)."""
    if not raw_response.startswith(b"HTTP/1.1 "):
        return None
    return int(raw_response[9:12])


# --- forged access tokens -----------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unb64url_json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def hs256(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """A JWT signed by hand with HMAC-SHA256 under `key`, whatever its header claims; PyJWT
    refuses some of these keys (a PEM public key), which is the point of the attack."""
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    return f"{b64url_json(header)}.{b64url_json(claims)}.{signature}"


def with_claims(token: str, **changes: Any) -> str:
    """The same token with its payload edited and its original signature kept."""
    header, payload, signature = token.split(".")
    claims = unb64url_json(payload) | changes
    return f"{header}.{b64url_json(claims)}.{signature}"


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = unb64url_json(token.split(".")[1])
    return claims


def _rsa_keys() -> tuple[rsa.RSAPrivateKey, bytes]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public_pem


def forged_tokens(
    valid: str, secret: bytes, other_secret: bytes, escalate_to: str, jwks_url: str
) -> dict[str, str]:
    """Access tokens that must all be refused. Each differs from `valid` (signed with
    `secret`) in one way: its algorithm, key, signature, a claim, or a header trick."""
    claims = claims_of(valid)
    header = {"alg": "HS256", "typ": "JWT"}
    now = int(time.time())
    private, public_pem = _rsa_keys()
    head, payload, signature = valid.split(".")

    def signed(**changes: Any) -> str:
        return hs256(header, claims | {"jti": uuid.uuid4().hex} | changes, secret)

    def without(name: str) -> str:
        return hs256(header, {k: v for k, v in claims.items() if k != name}, secret)

    return {
        "alg none": unsigned({"alg": "none", "typ": "JWT"}, claims),
        "alg None, signature kept": unsigned({"alg": "None"}, claims, signature),
        "alg NONE": unsigned({"alg": "NONE", "typ": "JWT"}, claims),
        "HS256, wrong secret": hs256(header, claims, secrets.token_bytes(48)),
        "HS256, another server secret": hs256(header, claims, other_secret),
        "RS256, the attacker's key": jwt.encode(claims, private, algorithm="RS256"),
        "HS256 keyed with an RSA public key": hs256(header, claims, public_pem),
        "RS256 header, HS256 signature": hs256({"alg": "RS256", "typ": "JWT"}, claims, secret),
        "HS512, right secret": jwt.encode(claims, secret, algorithm="HS512"),
        "expired": signed(iat=now - 7200, nbf=now - 7200, exp=now - 60),
        "nbf in the future": signed(nbf=now + 600),
        "iat in the future": signed(iat=now + 600),
        "wrong aud": signed(aud="ias-portal"),
        "aud list of others": signed(aud=["someone-else"]),
        "wrong iss": signed(iss="https://issuer.example"),
        **{f"no {claim}": without(claim) for claim in ("exp", "iat", "aud", "iss", "jti", "sub")},
        "no sid": without("sid"),
        "sub tampered to the super admin": with_claims(valid, sub=escalate_to),
        "exp tampered": with_claims(valid, exp=now + 10**8),
        "header tampered": f"{b64url_json({'alg': 'HS384', 'typ': 'JWT'})}.{payload}.{signature}",
        "unknown user": signed(sub=str(uuid.uuid4())),
        "unknown session": signed(sid=str(uuid.uuid4())),
        "sub not an id": signed(sub="' OR '1'='1"),
        "jku to the attacker": hs256({"alg": "HS256", "jku": jwks_url}, claims, b"k" * 32),
        "kid injection": hs256({"alg": "HS256", "kid": "../../dev/null' OR '1'='1"}, claims, b""),
        "signature stripped": f"{head}.{payload}.",
        "extra segment": valid + ".AAAA",
        "garbage": "not-a-token",
        "three dots": "a.b.c",
        "empty parts": "..",
        "huge": "eyJ" + "A" * 60_000,
    }


# --- injection payloads -------------------------------------------------------------------------

# What ends up in SQL, templates, shells, logs and headers when a server trusts its input.
INJECTIONS = {
    "sql_or": "' OR '1'='1",
    "sql_drop": "'; DROP TABLE users;--",
    "sql_comment": 'admin"--',
    "jinja": "{{7*7}}",
    "el": "${7*7}",
    "shell_subst": "$(id)",
    "shell_backtick": "`id`",
    "crlf_header": "x\r\nX-Injected: 1",
    "log_line": 'x\n{"level":"critical","message":"forged"}',
    "nul": "a\x00b",
    "format": "%s%s%s%n{0}{self}",
    "path": "../../../../etc/passwd",
    "json_in_string": '{"role": "owner", "is_super_admin": true}',
    "long_unicode": "𝕏é\u202e" * 3000,
}
# Evidence that something was evaluated or executed rather than stored as text.
EVALUATION_TRACES = ("uid=", "gid=", "root:x:0:0")


def malformed_authorizations(valid_key: str) -> dict[str, str | None]:
    """Authorization headers that must be refused before any lookup (None: no header at all)."""
    body = valid_key[4:]
    return {
        "missing": None,
        "empty": "",
        "bearer_only": "Bearer",
        "sql": "Bearer ' OR '1'='1",
        "wrong_prefix": "Bearer sk-" + body,
        "wrong_scheme": "Basic " + valid_key,
        "too_short": "Bearer " + valid_key[:-1],
        "too_long": "Bearer " + valid_key + "A",
        "bad_charset": "Bearer " + valid_key[:10] + "!@#$" + valid_key[14:],
        "bad_checksum": "Bearer " + valid_key[:-1] + ("A" if valid_key[-1] != "A" else "B"),
        "lowercased": "Bearer " + valid_key.lower(),
        "huge": "Bearer ias_" + "A" * 50_000,  # under the 64 KiB head cap (S5 tests past it)
        "two_keys": f"Bearer {valid_key} {valid_key}",
    }


# --- bodies -------------------------------------------------------------------------------------

# An ordinary chat request: what hostile fields and headers ride on.
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}

MALFORMED_BODIES = {
    "not JSON": b"{not json",
    "truncated": b'{"model": "',
    "not an object": b"[1, 2, 3]",
    "invalid UTF-8": b'{"model": "\xff\xfe"}',
    "nested 100,000 deep": b"[" * 100_000,
    "objects nested 50,000 deep": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
}


def padded_body(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A JSON body of at least `total` bytes, in `size` pieces (send it as it comes: chunked)."""
    yield b'{"model": "' + MODEL.encode() + b'", "padding": "'
    for _ in range(total // size + 1):
        yield b"a" * size
    yield b'"}'


# A stream no socket buffer on the way can absorb (some 6 MB): 128 choices, each token with its
# top 20 alternatives, generated as fast as the engine can.
HUGE_STREAM = {
    "model": MODEL,
    "messages": [{"role": "user", "content": "hi"}],
    "n": 128,
    "logprobs": True,
    "top_logprobs": 20,
    "stream": True,
    "mock": {"delay": 0},
}


# --- URLs where they do not belong --------------------------------------------------------------

# Client-chosen upstreams: refused at the top of a /v1 body.
FORBIDDEN_FIELDS = ("api_base", "base_url", "api_key", "organization")


def nested_urls(url: str) -> dict[str, dict[str, Any]]:
    """Body fields that carry `url` below the top level, where the router does not look."""
    image = {"type": "image_url", "image_url": {"url": url}}
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": url}}}
    return {
        "api_base in metadata": {"metadata": {"api_base": url}},
        "base_url in extra_body": {"extra_body": {"base_url": url, "api_key": "sk-steal"}},
        "image_url content part": {"messages": [{"role": "user", "content": [image]}]},
        "json_schema $ref": {"response_format": schema},
        "model named by URL": {"model": url},
    }


BAD_BACKEND_URLS = {
    "file": "file:///etc/passwd",
    "gopher": "gopher://127.0.0.1:6379/_FLUSHALL",
    "dict": "dict://127.0.0.1:11211/stats",
    "ftp": "ftp://10.0.0.5/v1",
    "javascript": "javascript:alert(1)",
    "data": "data:text/plain,hello",
    "no scheme": "10.0.0.5:8000/v1",
    "scheme-relative": "//10.0.0.5:8000/v1",
    "credentials": "http://admin:hunter2-backend-secret@10.0.0.5:8000/v1",
    "query": "http://10.0.0.5:8000/v1?next=http://169.254.169.254/latest/meta-data",
    "fragment": "http://10.0.0.5:8000/v1#frag",
    "no host": "http:///v1",
    "port out of range": "http://10.0.0.5:99999/v1",
    "port zero": "http://10.0.0.5:0/v1",
    "an endpoint": "http://10.0.0.5:8000/v1/chat/completions",
    "CRLF": "http://10.0.0.5:8000/v1\r\nHost: evil.example",
    "space in host": "http://10.0.0 .5:8000/v1",
    "broken IPv6": "http://[::1/v1",
    "bad host": "http://exa$mple.com/v1",
    "too long": "http://" + "a" * 3000 + ".example/v1",
    "empty": "",
}
