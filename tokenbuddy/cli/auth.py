"""``tokenbuddy auth add|remove|list|test <provider>``: vendor credentials in the OS keyring.

Secrets are read with hidden input on a terminal, or from stdin when piped (for
scripts); they are never printed, logged or written to the config: ``list``
shows only a masked form.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tokenbuddy import clock
from tokenbuddy.errors import ConfigError, CredentialError, VendorError
from tokenbuddy.store.secrets import PROVIDERS as SECRET_PROVIDERS
from tokenbuddy.store.secrets import delete_secret, mask, store_secret

if TYPE_CHECKING:
    import argparse

    from tokenbuddy.services.vendor_poll import Credential

AUTH_PROVIDERS = ("claude", *SECRET_PROVIDERS)
CLAUDE_NOTE = (
    "claude: tokenbuddy reads Claude Code's own login, read-only (never stored or refreshed"
    " here); log in with `claude`, or set CLAUDE_CODE_OAUTH_TOKEN"
)
HINTS = {
    "unauthorized": "the credential was refused: check it, or store a new one with"
    " `tokenbuddy auth add {provider}`",
    "forbidden": "the credential lacks a permission (Anthropic and OpenAI need an Admin key)",
    "missing_scope": "the credential lacks a required scope",
    "expired": "the token has expired",
    "rate_limited": "the vendor is rate-limiting: try again later",
    "timeout": "the vendor did not answer in time: check the network",
    "network": "the vendor could not be reached: check the network or the proxy",
    "server": "the vendor is failing: try again later",
}


def run_auth(args: argparse.Namespace) -> int:
    """Dispatch ``auth <action> [provider]``."""
    provider = args.provider
    if args.action == "list":
        return _list(provider)
    if provider is None:
        raise ConfigError(f"auth {args.action} needs a provider: {', '.join(AUTH_PROVIDERS)}")
    _check(provider)
    if args.action == "add":
        return _add(provider)
    if args.action == "remove":
        return _remove(provider)
    return _test(provider)


def _check(provider: str) -> None:
    if provider not in AUTH_PROVIDERS:
        raise ConfigError(f"unknown provider {provider!r}; use one of {', '.join(AUTH_PROVIDERS)}")


def read_secret(label: str) -> str:
    """The secret: hidden input on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"{label}: ").strip()
    return sys.stdin.readline().strip()


def _add(provider: str) -> int:
    if provider == "claude":
        raise CredentialError(CLAUDE_NOTE)
    secret = read_secret(SECRET_PROVIDERS[provider])
    store_secret(provider, secret)
    print(
        f"{provider}: stored in the keyring ({mask(secret)}); check it with"
        f" `tokenbuddy auth test {provider}`"
    )
    return 0


def _remove(provider: str) -> int:
    if provider == "claude":
        raise CredentialError(CLAUDE_NOTE)
    removed = delete_secret(provider)
    print(f"{provider}: {'removed from the keyring' if removed else 'nothing was stored'}")
    return 0


def lookup(provider: str) -> tuple[Credential | None, str]:
    """The provider's credential, or None and why it is unusable (empty: simply not set)."""
    from tokenbuddy.services.vendor_poll import find_credential

    try:
        return find_credential(provider, os.environ, Path.home()), ""
    except CredentialError as error:
        return None, str(error)


def _list(only: str | None) -> int:
    if only is not None:
        _check(only)
    rows, problems = [], set()
    for provider in [only] if only else AUTH_PROVIDERS:
        credential, problem = lookup(provider)
        if problem:
            problems.add(problem)
        state = "unavailable" if problem else "set" if credential else "not set"
        shown = mask(credential.secret) if credential else ""
        rows.append([provider, state, shown, credential.origin if credential else ""])
    print(columns(["provider", "credential", "secret", "from"], rows))
    for problem in sorted(problems):
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    return 0


def columns(headers: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns padded to their widest cell, under a header."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = [headers, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in lines
    )


def _test(provider: str) -> int:
    """One call with the stored credential; prints success or the exact problem."""
    import asyncio

    from tokenbuddy.services.vendor_poll import probe
    from tokenbuddy.sources.vendors.http import ClientOptions

    credential, problem = lookup(provider)
    if credential is None:
        reason = problem or f"no credential; add one with `tokenbuddy auth add {provider}`"
        print(f"{provider}: not configured: {reason}", file=sys.stderr)
        return 1
    now_ms = clock.now_ms()
    try:
        seen = asyncio.run(probe(credential, now_ms, ClientOptions()))
    except VendorError as error:
        hint = HINTS.get(error.kind, "").format(provider=provider)
        print(f"{provider}: FAILED [{error.kind}] {error}", file=sys.stderr)
        if hint:
            print(f"{provider}: {hint}", file=sys.stderr)
        return 1
    print(f"{provider}: OK, {seen} (credential from {credential.origin})")
    return 0
