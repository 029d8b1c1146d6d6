"""The team DSN (it carries the member's password) in the OS keyring, never in a file.

It is stored under the same service as the vendor secrets (``tokenbuddy``,
user ``team-dsn``) through :func:`tokenbuddy.store.secrets.usable_keyring`, so a
missing keyring backend gives the same explanation.
"""

from __future__ import annotations

from tokenbuddy.errors import CredentialError
from tokenbuddy.store.secrets import SERVICE, usable_keyring

DSN_KEY = "team-dsn"


def store_dsn(dsn: str) -> None:
    """Save the member DSN, replacing any previous one."""
    backend = usable_keyring()
    try:
        backend.set_password(SERVICE, DSN_KEY, dsn.strip())
    except Exception as error:  # noqa: BLE001 - every backend raises its own types
        raise _translate(error, "store") from None


def load_dsn() -> str | None:
    """The stored member DSN, or None before ``team join``."""
    backend = usable_keyring()
    try:
        value = backend.get_password(SERVICE, DSN_KEY)
    except Exception as error:  # noqa: BLE001 - every backend raises its own types
        raise _translate(error, "read") from None
    return value or None


def delete_dsn() -> bool:
    """Forget the member DSN; False when none was stored."""
    from keyring.errors import PasswordDeleteError

    backend = usable_keyring()
    try:
        backend.delete_password(SERVICE, DSN_KEY)
    except PasswordDeleteError:
        return False
    except Exception as error:  # noqa: BLE001 - every backend raises its own types
        raise _translate(error, "delete") from None
    return True


def _translate(error: Exception, verb: str) -> CredentialError:
    return CredentialError(
        f"cannot {verb} the team DSN in the keyring ({type(error).__name__}); is it locked?"
    )
