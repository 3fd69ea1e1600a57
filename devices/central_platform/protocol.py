"""Signed sync batches: the pure codec both the controller's pusher (sender) and hw_sim.central (platform) use.

A batch is a JSON body POSTed to the platform with these headers::

    X-HCC-Site        the centre's site id
    X-HCC-Key-Id      which per-site key signed it (keys rotate)
    X-HCC-Timestamp   unix seconds when it was signed; the platform refuses one outside its window
    X-HCC-Nonce       random per request; the platform refuses one it has seen (a replay)
    X-HCC-Signature   "v1=" + hex HMAC-SHA256(key, "v1\\n<site>\\n<key id>\\n<timestamp>\\n<nonce>\\n" + body)

Every header that decides how the body is treated is inside the MAC, so none can be swapped. A retry of the same
changes is a new request (new nonce, new timestamp); the platform is idempotent by event id, so a retry applies
nothing twice. Pure functions, except ``load_key``/``new_key_file``, which read and write the 0600 key file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

H_SITE = "X-HCC-Site"
H_KEY_ID = "X-HCC-Key-Id"
H_TIMESTAMP = "X-HCC-Timestamp"
H_NONCE = "X-HCC-Nonce"
H_SIGNATURE = "X-HCC-Signature"
SCHEME = "v1"
DEFAULT_WINDOW_S = 300
MIN_KEY_BYTES = 16


class KeyFileError(ValueError):
    """The key file is missing, too short, or readable by group/others."""


class SignatureError(ValueError):
    """A request whose signature, timestamp or headers do not check out. ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def load_key(path: Path | str) -> bytes:
    """The key in ``path`` (its stripped text, as bytes). Refuses a file group or others may read (mode & 0o077)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError as exc:
        raise KeyFileError(f"sync key file not found: {p} / 同步密钥文件不存在") from exc
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"sync key file is not a regular file: {p}")
    if st.st_mode & 0o077:
        raise KeyFileError(f"sync key file {p} is readable by group or others (mode {stat.S_IMODE(st.st_mode):04o});"
                           f" run: chmod 600 {p} / 同步密钥文件权限过宽，须为 0600")
    key = p.read_bytes().strip()
    if len(key) < MIN_KEY_BYTES:
        raise KeyFileError(f"sync key in {p} is shorter than {MIN_KEY_BYTES} bytes / 同步密钥过短")
    return key


def new_key_file(path: Path | str) -> Path:
    """Write a fresh random key (64 hex characters) with mode 0600; for set-up and tests."""
    p = Path(path)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    os.chmod(p, 0o600)
    return p


def _message(site: str, key_id: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{SCHEME}\n{site}\n{key_id}\n{timestamp}\n{nonce}\n".encode() + body


def signature(key: bytes, site: str, key_id: str, timestamp: str, nonce: str, body: bytes) -> str:
    mac = hmac.new(key, _message(site, key_id, timestamp, nonce, body), hashlib.sha256).hexdigest()
    return f"{SCHEME}={mac}"


def sign(key: bytes, site: str, key_id: str, body: bytes, now_s: float, nonce: str | None = None) -> dict[str, str]:
    """The headers for one request carrying ``body``, signed at unix time ``now_s``."""
    ts = str(int(now_s))
    n = nonce or secrets.token_hex(16)
    return {H_SITE: site, H_KEY_ID: key_id, H_TIMESTAMP: ts, H_NONCE: n,
            H_SIGNATURE: signature(key, site, key_id, ts, n, body), "Content-Type": "application/json"}


@dataclass(frozen=True)
class Verified:
    site: str
    key_id: str
    timestamp: int
    nonce: str


def verify(headers: Mapping[str, str], body: bytes, keys: Mapping[str, bytes], now_s: float,
           window_s: float = DEFAULT_WINDOW_S) -> Verified:
    """Checks a request's headers and body against ``keys`` (key id -> key) and the time window.

    Raises ``SignatureError`` with reason ``missing_header``, ``unknown_key``, ``bad_timestamp``, ``stale`` or
    ``bad_signature``. The nonce is returned for the caller to check against its replay store."""
    low = {k.lower(): v for k, v in headers.items()}
    vals = {}
    for name in (H_SITE, H_KEY_ID, H_TIMESTAMP, H_NONCE, H_SIGNATURE):
        v = low.get(name.lower())
        if not v:
            raise SignatureError("missing_header", f"missing header {name}")
        vals[name] = v
    key = keys.get(vals[H_KEY_ID])
    if key is None:
        raise SignatureError("unknown_key", f"unknown key id {vals[H_KEY_ID]!r}")
    try:
        ts = int(vals[H_TIMESTAMP])
    except ValueError as exc:
        raise SignatureError("bad_timestamp", "timestamp is not an integer") from exc
    if abs(now_s - ts) > window_s:
        raise SignatureError("stale", f"timestamp {ts} is outside the {window_s:.0f} s window")
    if not 8 <= len(vals[H_NONCE]) <= 128:
        raise SignatureError("bad_nonce", "nonce must be 8..128 characters")
    expected = signature(key, vals[H_SITE], vals[H_KEY_ID], vals[H_TIMESTAMP], vals[H_NONCE], body)
    if not hmac.compare_digest(expected, vals[H_SIGNATURE]):
        raise SignatureError("bad_signature", "signature does not match the body")
    return Verified(site=vals[H_SITE], key_id=vals[H_KEY_ID], timestamp=ts, nonce=vals[H_NONCE])
