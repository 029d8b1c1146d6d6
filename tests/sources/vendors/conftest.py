"""Instant sleeps and fast retry options for the vendor clients."""

from __future__ import annotations

import pytest

from tokenbuddy.sources.vendors.http import ClientOptions, RetryPolicy


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
