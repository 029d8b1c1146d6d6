"""The fake vendor server, started per test on a free port, with every base URL pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakevendor import FakeVendor

from tokenbuddy.sources.vendors.http import ClientOptions, RetryPolicy


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVendor]:
    server = FakeVendor().start()
    for name in ("ANTHROPIC", "OPENAI", "CURSOR", "CLAUDE_OAUTH"):
        monkeypatch.setenv(f"TOKENBUDDY_{name}_BASE_URL", server.url)
    yield server
    server.stop()


class Sleeps(list[float]):
    """An instant ``asyncio.sleep`` that remembers every wait asked for."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def options(sleeps: Sleeps) -> ClientOptions:
    policy = RetryPolicy(attempts=3, base_delay_s=0.05, max_delay_s=5.0, timeout_s=0.5)
    return ClientOptions(policy=policy, sleep=sleeps)
