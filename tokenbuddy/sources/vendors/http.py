"""Shared async HTTP plumbing for the vendor clients.

Every call has an explicit timeout. 429 and 5xx answers are retried with
exponential backoff and jitter, honouring ``Retry-After``; a vendor asking for a
longer wait than the policy allows ends the poll at once with that wait in the
error, so the next poll is scheduled after it. Every httpx, JSON and pydantic
failure is translated into a :class:`~tokenbuddy.errors.VendorError` whose
message never contains the credential.
"""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from tokenbuddy.errors import (
    ConfigError,
    VendorAuthError,
    VendorError,
    VendorNetworkError,
    VendorResponseError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence

_T = TypeVar("_T")
_M = TypeVar("_M", bound=BaseModel)
_JITTER = random.Random()  # noqa: S311 - jitter spreads retries; it guards nothing


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long one call may take and how often a 429/5xx is retried."""

    attempts: int = 4
    """Tries in all, the first included."""
    base_delay_s: float = 1.0
    """Backoff before the second try; doubled for every further one."""
    max_delay_s: float = 30.0
    """Longest single wait; a longer ``Retry-After`` fails the call instead."""
    timeout_s: float = 20.0
    """Connect, read, write and pool timeout of every call."""


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How the vendor clients connect: retry policy, sleep (tests make it instant), env."""

    policy: RetryPolicy = RetryPolicy()
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    environ: Mapping[str, str] | None = None
    """Where ``TOKENBUDDY_*_BASE_URL`` overrides are read; ``os.environ`` when None."""

    def client(
        self, provider: str, provider_env: str, default_url: str, **kwargs: Any
    ) -> VendorClient:
        """A :class:`VendorClient` for ``provider`` at its (possibly overridden) base URL."""
        url = base_url(provider_env, default_url, self.environ)
        return VendorClient(provider, url, policy=self.policy, sleep=self.sleep, **kwargs)


def base_url(provider_env: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    """``TOKENBUDDY_<PROVIDER_ENV>_BASE_URL`` when set (a local stand-in), else ``default``."""
    env = os.environ if environ is None else environ
    value = env.get(f"TOKENBUDDY_{provider_env}_BASE_URL", "").strip() or default
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"TOKENBUDDY_{provider_env}_BASE_URL must start with http(s)://")
    return value.rstrip("/")


def backoff_delay(attempt: int, policy: RetryPolicy, retry_after_s: float | None) -> float:
    """The wait before retry number ``attempt + 1``: ``Retry-After``, else jittered 2^n."""
    if retry_after_s is not None:
        return retry_after_s
    ceiling = min(policy.max_delay_s, policy.base_delay_s * float(2**attempt))
    return ceiling / 2 + _JITTER.random() * ceiling / 2


def retry_after_seconds(value: str | None, now_s: float) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as seconds from ``now_s``."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now_s)
    except (TypeError, ValueError, IndexError):
        return None


class VendorClient:
    """One vendor's HTTP session: base URL, headers, timeouts, retries and error translation.

    Use as an async context manager. ``secrets`` are redacted from any text of the
    vendor's that ends up in an error message.
    """

    def __init__(
        self,
        provider: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        secrets: Sequence[str] = (),
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self.policy = policy or RetryPolicy()
        self._secrets = [s for s in secrets if s]
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            base_url=url,
            headers=dict(headers or {}),
            auth=httpx.BasicAuth(*auth) if auth else None,
            timeout=httpx.Timeout(self.policy.timeout_s),
            follow_redirects=False,
        )

    async def __aenter__(self) -> VendorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def get_json(self, path: str, params: Any = None) -> Any:
        """GET ``path`` and return its decoded JSON body."""
        return await self._request("GET", path, params=params)

    async def post_json(self, path: str, body: Any) -> Any:
        """POST ``body`` as JSON to ``path`` and return the decoded JSON answer."""
        return await self._request("POST", path, json=body)

    async def _request(self, method: str, path: str, **options: Any) -> Any:
        for attempt in range(self.policy.attempts):
            response = await self._send(method, path, options)
            if response.status_code != 429 and response.status_code < 500:
                break
            wait = retry_after_seconds(response.headers.get("retry-after"), _now_s())
            delay = backoff_delay(attempt, self.policy, wait)
            if attempt + 1 >= self.policy.attempts or delay > self.policy.max_delay_s:
                raise self._status_error(response, path, wait)
            await self._sleep(delay)
        if response.is_error:
            raise self._status_error(response, path, None)
        return self._decode(response, path)

    async def _send(self, method: str, path: str, options: dict[str, Any]) -> httpx.Response:
        try:
            return await self._client.request(method, path, **options)
        except httpx.TimeoutException:
            raise VendorNetworkError(
                f"{self.provider}: no answer from {path} within {self.policy.timeout_s:g} s",
                kind="timeout",
            ) from None
        except httpx.HTTPError as error:
            raise VendorNetworkError(
                f"{self.provider}: cannot reach {self._client.base_url.host}"
                f" ({type(error).__name__})",
                kind="network",
            ) from None

    def _decode(self, response: httpx.Response, path: str) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise VendorResponseError(
                f"{self.provider}: {path} answered with malformed JSON", kind="malformed"
            ) from None

    def _status_error(
        self, response: httpx.Response, path: str, retry_after_s: float | None
    ) -> VendorError:
        """A one-line error for an HTTP error status, with the vendor's reason redacted."""
        status, reason = response.status_code, self._vendor_reason(response)
        text = f"{self.provider}: HTTP {status} from {path}" + (f": {reason}" if reason else "")
        if status == 401:
            return VendorAuthError(text + " (the key or token was refused)", kind="unauthorized")
        if status == 403:
            kind = "missing_scope" if "scope" in reason.lower() else "forbidden"
            return VendorAuthError(text + " (the key lacks a permission)", kind=kind)
        if status == 429:
            return VendorNetworkError(text, kind="rate_limited", retry_after_s=retry_after_s)
        if status >= 500:
            return VendorNetworkError(text, kind="server", retry_after_s=retry_after_s)
        return VendorError(text, kind="http")

    def _vendor_reason(self, response: httpx.Response) -> str:
        """The vendor's own error message, at most 160 characters, secrets removed."""
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return ""
        reason = _message_of(body)
        for secret in self._secrets:
            reason = reason.replace(secret, "****")
        return " ".join(reason.split())[:160]


def _message_of(body: Any) -> str:
    """``error.message``, ``message`` or ``error`` from a vendor's error body."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    for value in (body.get("message"), error):
        if isinstance(value, str):
            return value
    return ""


def _now_s() -> float:
    import time

    return time.time()


def parse(model: type[_M], payload: Any, provider: str, what: str) -> _M:
    """``payload`` validated as ``model``; a changed shape becomes a ``schema`` error.

    The message names the first offending field, never the payload's values.
    """
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(body)"
        raise VendorResponseError(
            f"{provider}: {what} changed shape: {where}: {first['msg'].lower()}", kind="schema"
        ) from None


async def token_pages(
    fetch: Callable[[str | None], Awaitable[tuple[list[_T], str | None]]],
    provider: str,
    max_pages: int = 200,
) -> list[_T]:
    """Every item of a ``next_page``-token paginated listing, the first page fetched with None."""
    items: list[_T] = []
    token: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        page, token = await fetch(token)
        items.extend(page)
        if token is None:
            return items
        if token in seen:
            break
        seen.add(token)
    raise VendorResponseError(f"{provider}: pagination did not end", kind="schema")


async def numbered_pages(
    fetch: Callable[[int], Awaitable[tuple[list[_T], bool]]],
    provider: str,
    max_pages: int = 200,
) -> list[_T]:
    """Every item of a 1-based page-number listing; stops at an empty page or ``has_more`` False."""
    items: list[_T] = []
    for page_number in range(1, max_pages + 1):
        page, has_more = await fetch(page_number)
        items.extend(page)
        if not page or not has_more:
            return items
    raise VendorResponseError(f"{provider}: pagination did not end", kind="schema")
