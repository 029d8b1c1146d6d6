"""The exceptions tokenbuddy raises on purpose.

    TokenBuddyError            anything tokenbuddy reports to the user as one line
    ├── ConfigError            a setting or command-line value cannot be used
    ├── LedgerError            the SQLite ledger cannot be opened, migrated or written
    │   ├── LedgerVersionError the ledger was written by a newer tokenbuddy
    │   ├── LedgerCorruptError the ledger file is damaged (recovered from a backup)
    │   └── LedgerReadOnlyError the ledger can be read but not written (reports still answer)
    ├── SourceError            a log root or file cannot be read at all
    ├── CredentialError        a vendor credential is missing, unreadable or cannot be stored
    │   └── KeyringUnavailableError  no usable OS keyring backend (never falls back to a file)
    ├── VendorError            a vendor usage endpoint did not give a usable answer
    │   ├── VendorAuthError    401, 403 or a missing scope: the credential needs attention
    │   ├── VendorNetworkError network failure, timeout, 429 or 5xx after retries
    │   └── VendorResponseError malformed JSON or a changed response shape
    └── TeamError              team sync (PostgreSQL) cannot do what was asked
        ├── TeamDriverMissingError  psycopg is not installed (the ``team`` extra)
        ├── TeamInsecureError  a non-loopback server without TLS, and no override
        ├── TeamConnectionError the server cannot be reached, or the connection dropped
        ├── TeamPermissionError the server refused (password, role, row-level security)
        └── TeamSchemaError    the team schema is missing, or newer than this tokenbuddy

Library errors (sqlite3, OSError, zoneinfo, httpx, keyring, psycopg) are translated into these
at the boundary; the CLI prints ``str(error)`` to stderr and exits non-zero.
"""


class TokenBuddyError(Exception):
    """Base class: the message is written for the user, on one line."""


class ConfigError(TokenBuddyError):
    """A setting, environment variable or command-line value cannot be used."""


class LedgerError(TokenBuddyError):
    """The ledger database cannot be opened, migrated or written."""


class LedgerVersionError(LedgerError):
    """The ledger's schema is newer than this tokenbuddy understands."""


class LedgerCorruptError(LedgerError):
    """The ledger file is damaged: SQLite reports it malformed, or it failed its integrity
    check. The commands recover from the newest sound backup when they meet it."""


class LedgerReadOnlyError(LedgerError):
    """The ledger exists and can be read, but not written (a read-only file, directory or
    file system): reports answer from what it holds, with a notice."""


class SourceError(TokenBuddyError):
    """A log root or log file cannot be read at all."""


class CredentialError(TokenBuddyError):
    """A vendor credential is missing, unreadable or cannot be stored.

    Messages name the provider and where the credential was looked for, never its value.
    """


class KeyringUnavailableError(CredentialError):
    """No usable OS keyring backend: secrets are never written to a plain file instead."""


class VendorError(TokenBuddyError):
    """A vendor usage endpoint did not give a usable answer.

    ``kind`` is a short machine-readable reason (``unauthorized``, ``forbidden``,
    ``missing_scope``, ``rate_limited``, ``server``, ``timeout``, ``network``, ``http``,
    ``malformed``, ``schema``); ``retry_after_s`` is the vendor's requested wait, if any.
    """

    def __init__(self, message: str, *, kind: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after_s = retry_after_s


class VendorAuthError(VendorError):
    """The vendor refused the credential (401), the permission (403) or a scope."""


class VendorNetworkError(VendorError):
    """The vendor could not be reached, timed out, or kept failing (429/5xx) after retries."""


class VendorResponseError(VendorError):
    """The vendor answered with malformed JSON or a shape tokenbuddy does not understand."""


class TeamError(TokenBuddyError):
    """Team sync cannot do what was asked; messages never contain a password."""


class TeamDriverMissingError(TeamError):
    """psycopg 3 is not installed: the message says how to install the ``team`` extra."""


class TeamInsecureError(TeamError):
    """A non-loopback server without ``sslmode=require`` or stronger, and no override."""


class TeamConnectionError(TeamError):
    """The server cannot be reached, or the connection dropped: retried later with backoff."""


class TeamPermissionError(TeamError):
    """The server refused: wrong password, missing role, or a row-level security policy."""


class TeamSchemaError(TeamError):
    """The team schema is missing (run ``team init``) or newer than this tokenbuddy."""
