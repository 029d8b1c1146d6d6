"""The exceptions tokenbuddy raises on purpose.

    TokenBuddyError            anything tokenbuddy reports to the user as one line
    ├── ConfigError            a setting or command-line value cannot be used
    ├── LedgerError            the SQLite ledger cannot be opened, migrated or written
    │   └── LedgerVersionError the ledger was written by a newer tokenbuddy
    └── SourceError            a log root or file cannot be read at all

Library errors (sqlite3, OSError, zoneinfo) are translated into these at the
boundary; the CLI prints ``str(error)`` to stderr and exits non-zero.
"""


class TokenBuddyError(Exception):
    """Base class: the message is written for the user, on one line."""


class ConfigError(TokenBuddyError):
    """A setting, environment variable or command-line value cannot be used."""


class LedgerError(TokenBuddyError):
    """The ledger database cannot be opened, migrated or written."""


class LedgerVersionError(LedgerError):
    """The ledger's schema is newer than this tokenbuddy understands."""


class SourceError(TokenBuddyError):
    """A log root or log file cannot be read at all."""
