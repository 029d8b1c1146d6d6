"""The wall clock, read in one place: now in epoch milliseconds, the unit of every timestamp.

A shared bottom module like :mod:`tokenbuddy.errors`: the commands read the time here
and hand it on as ``now_ms`` (the core never reads a clock). It imports only
:mod:`time`, so the status line's fast path can use it.
"""

import time


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return int(time.time() * 1000)
