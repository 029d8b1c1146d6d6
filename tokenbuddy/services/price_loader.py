"""The price database, loaded by a helper process while a first run starts up.

Importing genai-prices costs ~0.13 s of CPU, and a first run (no ledger yet)
needs it to price its backlog, while later runs find their price schedules
cached in the ledger. So a command that is about to fill a new ledger forks a
helper first thing, before its own imports: the helper loads the price
database on the otherwise idle second core, then builds price schedules for
this process on request, over a pipe, as JSON (``PriceSchedule.to_json``).

The helper is an optimisation only. Whenever it cannot answer (it died, the
pipe broke, it sent something unexpected), schedules are built in this process
as they would have been without it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from tokenbuddy.core.pricing import PriceSchedule


MAX_PENDING = 8
"""Requests in flight at most: their answers (a few KB each) must fit in a pipe buffer."""


class _Running:
    """The helper this process started, if any."""

    loader: PriceLoader | None = None


def start_for_first_run(ledger: Path) -> None:
    """Start the helper when ``ledger`` does not exist yet and ``fork`` is available."""
    if _Running.loader is None and hasattr(os, "fork") and not ledger.exists():
        _Running.loader = PriceLoader.start()


def active() -> PriceLoader | None:
    """The running helper of this process, if any (and not released)."""
    loader = _Running.loader
    return loader if loader is not None and loader.open else None


def forget_in_child() -> None:
    """In a process forked from one with a helper: drop the inherited pipe ends.

    Only the process that started the helper talks to it; a copy of its request
    pipe held elsewhere would keep the helper from seeing the end of its input.
    """
    if _Running.loader is not None:
        _Running.loader.close_pipes()
        _Running.loader = None


def release() -> None:
    """Tell the helper (if any) to end now, without waiting: it is reaped by :func:`stop`."""
    if _Running.loader is not None:
        _Running.loader.release()


def stop() -> None:
    """End the helper (if any) and reap it."""
    if _Running.loader is not None:
        _Running.loader.stop()
        _Running.loader = None


class PriceLoader:
    """This process's end of the helper: builds schedules through it."""

    def __init__(self, pid: int, requests: int, replies: int) -> None:
        self._pid = pid
        self._requests: int | None = requests
        self._replies = os.fdopen(replies, "rb")
        self._asked: list[tuple[str, str, str]] = []
        """Requests sent and not read back yet, oldest first (the helper answers in order)."""
        self._answers: dict[tuple[str, str, str], Any] = {}
        self.answered = 0
        """Schedules the helper built."""

    @classmethod
    def start(cls) -> PriceLoader | None:
        """Fork the helper; None when the fork fails."""
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (request_read, request_write, reply_read, reply_write):
                os.close(fd)
            return None
        if pid == 0:  # the helper
            code = 0
            try:
                os.close(request_write)
                os.close(reply_read)
                _serve(request_read, reply_write)
            except BaseException:  # noqa: BLE001 (never unwind into the parent's code)
                code = 1
            finally:
                os._exit(code)
        os.close(request_read)
        os.close(reply_write)
        return cls(pid, request_write, reply_read)

    def prefetch(self, model: str, provider: str, context: str) -> None:
        """Ask for a schedule without waiting: the helper builds it while this process
        goes on, and :meth:`build` picks it up."""
        import orjson

        key = (model, provider, context)
        if self._requests is None or key in self._answers or key in self._asked:
            return
        try:
            # Read answers back before the helper could fill the reply pipe and block.
            while len(self._asked) >= MAX_PENDING:
                self._answers[self._asked.pop(0)] = self._read_answer()
            request = orjson.dumps(key) + b"\n"
            while request:
                request = request[os.write(self._requests, request) :]
        except (OSError, ValueError, KeyError, TypeError):
            self.release()
            return
        self._asked.append(key)

    def build(self, model: str, provider: str, context: str) -> PriceSchedule | None:
        """What ``build_schedule(model, provider, context)`` gives, built by the helper
        when it can answer, else here."""
        from tokenbuddy.core.pricing import PriceSchedule, build_schedule

        key = (model, provider, context)
        self.prefetch(*key)
        try:
            while key not in self._answers and self._asked:
                self._answers[self._asked.pop(0)] = self._read_answer()
        except (OSError, ValueError, KeyError, TypeError):
            self.release()
        if key in self._answers:
            self.answered += 1
            reply = self._answers.pop(key)
            return None if reply is None else PriceSchedule.from_json(reply)
        return build_schedule(model, provider, context)

    def _read_answer(self) -> Any:
        import orjson

        line = self._replies.readline()
        if not line.endswith(b"\n"):
            raise ValueError("the price helper ended")
        reply = orjson.loads(line)
        if not isinstance(reply, dict) or "schedule" not in reply:
            raise ValueError("the price helper could not build that schedule")
        return reply["schedule"]

    @property
    def open(self) -> bool:
        """Whether requests can still be sent (not released, not failed)."""
        return self._requests is not None

    def close_pipes(self) -> None:
        """Close this end of both pipes."""
        if self._requests is not None:
            os.close(self._requests)
            self._requests = None
        self._replies.close()

    def release(self) -> None:
        """Close the pipes and tell the helper to end (it may still be loading prices)."""
        if self._requests is None:
            return
        self.close_pipes()
        with contextlib.suppress(OSError):
            os.kill(self._pid, signal.SIGTERM)

    def stop(self) -> None:
        """End the helper and wait for it (a few ms, unless released earlier)."""
        self.release()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self._pid, 0)


def _serve(requests: int, replies: int) -> None:
    """The helper: load the price database, then answer requests until the input ends."""
    import genai_prices.data  # noqa: F401  (the slow part, done before the first request)
    import orjson

    from tokenbuddy.core.pricing import build_schedule

    with os.fdopen(requests, "rb") as incoming, os.fdopen(replies, "wb") as out:
        for line in incoming:
            try:
                model, provider, context = orjson.loads(line)
                schedule = build_schedule(str(model), str(provider), str(context))
                reply: dict[str, Any] = {"schedule": schedule and schedule.to_json()}
            except Exception as error:  # noqa: BLE001 (the asker builds it itself, and sees why)
                reply = {"error": str(error)}
            out.write(orjson.dumps(reply) + b"\n")
            out.flush()
