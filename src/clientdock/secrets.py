"""Secrets at rest (webhook secrets, OAuth tokens): Fernet encryption with the service key.

The key comes from ``CLIENTDOCK_SECRET_KEY`` — one key, or several separated by commas to
rotate (the first encrypts, every one decrypts). Each is a Fernet key
(``Fernet.generate_key()``) or a passphrase of at least 32 characters, stretched with SHA-256.
Without the variable, a key is generated once and kept in ``<data_dir>/secret.key`` (mode
0600): right for one machine; machines sharing a database must share the variable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from functools import lru_cache
from pathlib import Path

import structlog
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = structlog.get_logger(__name__)

ENV_VAR = "CLIENTDOCK_SECRET_KEY"
KEY_FILE = "secret.key"
MIN_PASSPHRASE = 32

__all__ = ["ENV_VAR", "InvalidToken", "decrypt", "encrypt", "key_box", "rotate"]


def _as_fernet_key(value: str) -> bytes:
    raw = value.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    if len(raw) < MIN_PASSPHRASE:
        raise ValueError(f"{ENV_VAR}: each key must be a Fernet key or a passphrase of at least {MIN_PASSPHRASE} characters")
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def _key_file(data_dir: Path) -> bytes:
    """Read the persisted key, or create it; O_EXCL makes concurrent first starts agree."""
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("secret_key_file_too_open", path=str(path), mode=oct(mode))
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    log.warning("secret_key_generated", path=str(path), hint=f"set {ENV_VAR} when several machines share the database")
    return key


@lru_cache(maxsize=16)
def _box(data_dir: Path, env_value: str | None) -> MultiFernet:
    if env_value and env_value.strip():
        keys = [_as_fernet_key(part) for part in env_value.split(",") if part.strip()]
    else:
        keys = [_key_file(data_dir)]
    return MultiFernet([Fernet(key) for key in keys])


def key_box(data_dir: Path) -> MultiFernet:
    """The Fernet set for this deployment (environment first, else ``<data_dir>/secret.key``)."""
    return _box(data_dir.resolve(), os.environ.get(ENV_VAR))


def encrypt(data_dir: Path, plaintext: str) -> str:
    return key_box(data_dir).encrypt(plaintext.encode()).decode()


def rotate(data_dir: Path, token: str) -> str:
    """``token`` encrypted again with the first key (raises :class:`InvalidToken` when no key opens it)."""
    return key_box(data_dir).rotate(token.encode()).decode()


def decrypt(data_dir: Path, token: str) -> str:
    """Raises :class:`InvalidToken` when no configured key opens ``token``."""
    return key_box(data_dir).decrypt(token.encode()).decode()
