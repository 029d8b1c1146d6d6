"""The team DSN (it carries the member's password) in the OS keyring, never in a file.

It is stored under the same service as the vendor secrets (``tokenbuddy``, user
``team-dsn``) through the same helpers (:mod:`tokenbuddy.store.secrets`), so a
missing keyring backend gives the same explanation.
"""

from __future__ import annotations

from tokenbuddy.store.secrets import delete_entry, load_entry, store_entry

DSN_KEY = "team-dsn"
LABEL = "team DSN"


def store_dsn(dsn: str) -> None:
    """Save the member DSN, replacing any previous one."""
    store_entry(DSN_KEY, dsn.strip(), LABEL)


def load_dsn() -> str | None:
    """The stored member DSN, or None before ``team join``."""
    return load_entry(DSN_KEY, LABEL)


def delete_dsn() -> bool:
    """Forget the member DSN; False when none was stored."""
    return delete_entry(DSN_KEY, LABEL)
