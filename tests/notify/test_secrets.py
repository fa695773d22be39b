"""The key that encrypts secrets at rest: from the environment, else a 0600 file in data_dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from clientdock import secrets


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(secrets.ENV_VAR, raising=False)


def test_a_key_file_is_created_once_with_0600(tmp_path: Path) -> None:
    token = secrets.encrypt(tmp_path / "data", "hello")
    key_file = tmp_path / "data" / "secret.key"
    first_key = key_file.read_bytes()

    assert key_file.stat().st_mode & 0o777 == 0o600
    assert secrets.decrypt(tmp_path / "data", token) == "hello"
    assert Fernet(first_key.strip()).decrypt(token.encode()) == b"hello"
    secrets.encrypt(tmp_path / "data", "again")
    assert key_file.read_bytes() == first_key


def test_the_environment_key_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(secrets.ENV_VAR, key)

    token = secrets.encrypt(tmp_path, "hello")

    assert not (tmp_path / "secret.key").exists()
    assert Fernet(key).decrypt(token.encode()) == b"hello"


def test_keys_rotate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = Fernet.generate_key().decode()
    monkeypatch.setenv(secrets.ENV_VAR, old)
    token = secrets.encrypt(tmp_path, "hello")
    new = "a passphrase that is long enough to stretch into a key"
    monkeypatch.setenv(secrets.ENV_VAR, f"{new},{old}")

    assert secrets.decrypt(tmp_path, token) == "hello"
    monkeypatch.setenv(secrets.ENV_VAR, new)
    with pytest.raises(secrets.InvalidToken):
        secrets.decrypt(tmp_path, token)


def test_short_passphrases_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(secrets.ENV_VAR, "hunter2")

    with pytest.raises(ValueError, match=secrets.ENV_VAR):
        secrets.encrypt(tmp_path, "hello")
