"""Vendor keys and tokens in the OS keyring (service ``tokenbuddy``), never in a file.

With no usable keyring backend (a headless Linux box without a Secret Service,
say) every call raises :class:`~tokenbuddy.errors.KeyringUnavailableError`
explaining the fix; there is no silent plaintext fallback.

Keyring calls can block (an unlock prompt, D-Bus): the dashboard runs them in
thread workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from tokenbuddy.errors import CredentialError, KeyringUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable

    from keyring.backend import KeyringBackend

_T = TypeVar("_T")

SERVICE = "tokenbuddy"
"""The keyring service every tokenbuddy secret is stored under (the provider is the user)."""

PROVIDERS: dict[str, str] = {
    "anthropic": "Anthropic Admin API key (sk-ant-admin01-...)",
    "openai": "OpenAI Admin key (sk-admin-...)",
    "cursor": "Cursor session token (WorkosCursorSessionToken cookie or access token)",
    "cursor-team": "Cursor Teams Admin API key (key_... or crsr_...)",
}
"""Providers whose secret tokenbuddy stores, with what the secret is."""

_FIX = (
    "no usable OS keyring backend ({backend}); tokenbuddy never stores secrets in a plain file."
    " Fix: install and unlock a Secret Service (gnome-keyring or KeePassXC) on Linux, or"
    " deliberately choose a file backend with `pip install keyrings.alt` and"
    " PYTHON_KEYRING_BACKEND=keyrings.alt.file.EncryptedKeyring"
)


def usable_keyring() -> KeyringBackend:
    """The active keyring backend, or a clear error when it cannot store anything."""
    import keyring
    from keyring.backends import chainer, fail, null

    backend = keyring.get_keyring()
    unusable = isinstance(backend, fail.Keyring | null.Keyring) or (
        isinstance(backend, chainer.ChainerBackend) and not backend.backends
    )
    if unusable:
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        raise KeyringUnavailableError(_FIX.format(backend=name))
    return backend


def check_provider(provider: str) -> None:
    """Reject a provider tokenbuddy keeps no secret for."""
    if provider not in PROVIDERS:
        raise CredentialError(f"unknown provider {provider!r}; use one of {', '.join(PROVIDERS)}")


def store_secret(provider: str, secret: str) -> None:
    """Save ``secret`` for ``provider``, replacing any previous one."""
    check_provider(provider)
    secret = secret.strip()
    if not secret:
        raise CredentialError(f"empty secret for {provider}; nothing stored")
    store_entry(provider, secret, f"{provider} secret")


def load_secret(provider: str) -> str | None:
    """The stored secret for ``provider``, or None when there is none."""
    check_provider(provider)
    return load_entry(provider, f"{provider} secret")


def delete_secret(provider: str) -> bool:
    """Forget ``provider``'s secret; False when none was stored."""
    check_provider(provider)
    return delete_entry(provider, f"{provider} secret")


def store_entry(key: str, value: str, label: str) -> None:
    """Save ``value`` under ``key`` in tokenbuddy's keyring service (``label`` names it in
    errors, which never contain the value)."""
    _call(lambda backend: backend.set_password(SERVICE, key, value), label, "store")


def load_entry(key: str, label: str) -> str | None:
    """The value under ``key``, or None when there is none."""
    return _call(lambda backend: backend.get_password(SERVICE, key), label, "read") or None


def delete_entry(key: str, label: str) -> bool:
    """Forget ``key``'s value; False when none was stored."""
    from keyring.errors import PasswordDeleteError

    backend = usable_keyring()
    try:
        backend.delete_password(SERVICE, key)
    except PasswordDeleteError:
        return False
    except Exception as error:  # noqa: BLE001 - every backend raises its own types
        raise _translate(error, label, "delete") from None
    return True


def mask(secret: str) -> str:
    """A recognisable but useless form of ``secret``: its last four characters at most."""
    if len(secret) < 16:
        return "****"
    return f"****{secret[-4:]} ({len(secret)} chars)"


def _call(action: Callable[[KeyringBackend], _T], label: str, verb: str) -> _T:
    backend = usable_keyring()
    try:
        return action(backend)
    except Exception as error:  # noqa: BLE001 - every backend raises its own types
        raise _translate(error, label, verb) from None


def _translate(error: Exception, label: str, verb: str) -> CredentialError:
    """A keyring failure as a one-line error naming the entry (never its value)."""
    return CredentialError(
        f"cannot {verb} the {label} in the keyring ({type(error).__name__}); is the keyring locked?"
    )
