"""Credentials in the keyring: stored, read, masked, deleted; no usable backend is an error."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from tokenbuddy.errors import CredentialError, KeyringUnavailableError
from tokenbuddy.store.secrets import SERVICE, delete_secret, load_secret, mask, store_secret

SECRET = "sk-ant-admin01-abcdefghijklmnopqrstuvwxyz"


def test_a_secret_round_trips_through_the_keyring(memory_keyring) -> None:
    store_secret("anthropic", f"  {SECRET}\n")
    assert memory_keyring.secrets == {(SERVICE, "anthropic"): SECRET}
    assert load_secret("anthropic") == SECRET
    assert delete_secret("anthropic") is True
    assert load_secret("anthropic") is None
    assert delete_secret("anthropic") is False


def test_mask_keeps_at_most_the_last_four_characters() -> None:
    assert SECRET[:-4] not in mask(SECRET)
    assert mask(SECRET).startswith("****wxyz")
    assert mask("short") == "****"


def test_no_usable_backend_explains_the_fix_and_never_falls_back_to_a_file(tmp_path) -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(KeyringUnavailableError, match=r"keyrings\.alt") as raised:
        store_secret("openai", SECRET)
    assert "Secret Service" in str(raised.value)
    assert SECRET not in str(raised.value)
    with pytest.raises(KeyringUnavailableError):
        load_secret("openai")
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]


def test_unknown_provider_and_empty_secret_are_refused() -> None:
    with pytest.raises(CredentialError, match="unknown provider"):
        store_secret("gemini", SECRET)
    with pytest.raises(CredentialError, match="empty"):
        store_secret("openai", "   ")


def test_a_failing_backend_is_translated_without_the_secret(memory_keyring, monkeypatch) -> None:
    def locked(*args: object) -> None:
        raise RuntimeError(f"locked while storing {args}")

    monkeypatch.setattr(memory_keyring, "set_password", locked)
    with pytest.raises(CredentialError, match="locked") as raised:
        store_secret("openai", SECRET)
    assert SECRET not in str(raised.value)
