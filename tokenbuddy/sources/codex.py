"""Codex CLI rollouts: ``$CODEX_HOME/sessions/**/rollout-*.jsonl`` and ``archived_sessions/``.

``CODEX_HOME`` is comma-separated, and defaults to ``~/.codex``.

Codex writes ``token_count`` events carrying the session's cumulative usage
(``info.total_token_usage``), re-emitted with the same total several times.
A request's usage is the increase of that total since the previous event; a
decrease means the counter was reset. ``last_token_usage`` is never summed.
The model is the one named by the latest ``turn_context``, and how the session was
started (its entrypoint: ``codex_cli_rs``, ``codex_exec``...) is the ``originator`` of
its ``session_meta``.

OpenAI counts cached tokens inside ``input_tokens``; records here carry the
uncached part as ``input_tokens`` and the cached part as ``cache_read_tokens``.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import msgspec

from tokenbuddy.core.records import (
    CODEX,
    CODEX_MODEL_ASSUMED,
    ParseStats,
    PromptMark,
    RateLimitSnapshot,
    SkipReason,
    UsageRecord,
)
from tokenbuddy.sources.jsonl import parse_in_full, parse_timestamp, split_lines
from tokenbuddy.sources.locations import LogDir, configured_dirs

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

HOME_DIRS = ("sessions", "archived_sessions")
"""The directories of a Codex home that hold rollouts."""
NAME_PREFIX = "rollout-"
SESSION_META_HEAD = b'"type":"session_meta"'
"""How a rollout's first line starts, after its timestamp."""
FALLBACK_MODEL = "gpt-5"
"""Codex builds before turn_context existed ran gpt-5 by default."""
COUNTER_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "total_tokens",
)


def log_dirs(environ: Mapping[str, str], home: Path, *_: object) -> list[LogDir]:
    """``sessions/`` and ``archived_sessions/`` of every ``CODEX_HOME``, else of ``~/.codex``."""
    configured = configured_dirs(environ, "CODEX_HOME")
    homes = [home / ".codex"] if configured is None else configured
    origin = "default" if configured is None else "CODEX_HOME"
    return [LogDir(codex_home / name, origin) for codex_home in homes for name in HOME_DIRS]


def open_rollout(path: str, state: dict[str, Any], stats: ParseStats) -> RolloutParser:
    """A parser for a rollout's new lines, carrying on from ``state`` (empty: its start)."""
    return RolloutParser(dict(state) or initial_state(path), stats)


def initial_state(path: str) -> dict[str, Any]:
    """Carry-over for a rollout read from its start."""
    name = os.path.basename(path).removesuffix(".jsonl")
    return {"session_id": name[-36:], "cwd": "", "model": "", "totals": [0] * 5, "originator": ""}


def usage_delta(previous: list[int], current: list[int]) -> list[int]:
    """The usage between two cumulative snapshots; a decrease is a counter reset."""
    if any(now < before for now, before in zip(current, previous, strict=True)):
        return list(current)
    return [now - before for now, before in zip(current, previous, strict=True)]


class RolloutParser:
    """Turns the lines of one rollout, in order, into usage records and rate-limit snapshots."""

    def __init__(self, state: dict[str, Any], stats: ParseStats) -> None:
        self.state = state
        self.stats = stats
        self.records: list[UsageRecord] = []
        self.rate_limits: list[RateLimitSnapshot] = []
        self.prompts: list[PromptMark] = []
        """Human prompts (``user_message`` events), for the unattended-loop warning."""

    def finish(self, overlong_edges: Iterable[tuple[bytes, bytes]]) -> int:
        """Nothing is rescued from lines too long to read whole: usage lines are short,
        and such a line is a tool's output. Returns 0."""
        return 0

    def feed_chunk(self, chunk: bytes) -> None:
        """Handle every relevant line of a buffer of complete lines, in order.

        Every line is parsed, into typed structs that declare only the fields used
        here (model output, tool calls and their results are skipped at C speed);
        the lines that matter are then handed to :meth:`feed` as plain dicts. When
        the buffer does not decode whole, it is read line by line, and a line that
        does not fit the structs is parsed in full (``load_line`` counts why one
        cannot be). As for Claude Code transcripts, what is not read is not checked.
        """
        try:
            values = _decode_lines(chunk)
        except (msgspec.MsgspecError, RecursionError):
            self._feed_lines(chunk)
            return
        self.stats.lines += len(values)
        for value in values:
            if value.type in _HANDLED:
                self.feed(msgspec.to_builtins(value))

    def _feed_lines(self, chunk: bytes) -> None:
        for line in split_lines(chunk):
            try:
                value = _decode_line(line)
            except (msgspec.MsgspecError, RecursionError):
                obj = parse_in_full(line, self.stats)
                if obj is not None:
                    self.feed(obj)
                continue
            self.stats.lines += 1
            if value.type in _HANDLED:
                self.feed(msgspec.to_builtins(value))

    def feed(self, obj: dict[str, Any]) -> None:
        """Handle one parsed rollout line."""
        payload = obj.get("payload")
        if not isinstance(payload, dict):
            return
        kind = obj.get("type")
        if kind == "session_meta":
            self._session_meta(payload)
        elif kind == "turn_context":
            self._turn_context(payload)
        elif kind == "event_msg" and payload.get("type") == "user_message":
            ts_ms = parse_timestamp(obj.get("timestamp"))
            if ts_ms is not None:
                self.prompts.append(PromptMark(CODEX, self.state["session_id"], ts_ms))
        elif kind == "event_msg" and payload.get("type") == "token_count":
            ts_ms = parse_timestamp(obj.get("timestamp"))
            if ts_ms is None:
                self.stats.skip(SkipReason.NO_TIMESTAMP)
                return
            self._rate_limits(payload.get("rate_limits"), ts_ms)
            self._token_count(payload.get("info"), ts_ms)

    def _session_meta(self, payload: dict[str, Any]) -> None:
        if isinstance(payload.get("id"), str) and payload["id"]:
            self.state["session_id"] = payload["id"]
        if isinstance(payload.get("cwd"), str):
            self.state["cwd"] = payload["cwd"]
        if isinstance(payload.get("originator"), str):
            self.state["originator"] = payload["originator"]

    def _turn_context(self, payload: dict[str, Any]) -> None:
        model = payload.get("model")
        if not isinstance(model, str) or not model:
            mode = payload.get("collaboration_mode")
            settings = mode.get("settings") if isinstance(mode, dict) else None
            model = settings.get("model") if isinstance(settings, dict) else None
        if isinstance(model, str) and model:
            self.state["model"] = model
        if isinstance(payload.get("cwd"), str) and payload["cwd"]:
            self.state["cwd"] = payload["cwd"]

    def _token_count(self, info: Any, ts_ms: int) -> None:
        if info is None:
            return
        totals = info.get("total_token_usage") if isinstance(info, dict) else None
        current = _counters(totals)
        if current is None:
            self.stats.skip(SkipReason.BAD_USAGE)
            return
        delta = usage_delta(self.state["totals"], current)
        self.state["totals"] = current
        if not any(delta):
            return
        self.records.append(self._record(delta, current, ts_ms))
        self.stats.records += 1

    def _record(self, delta: list[int], current: list[int], ts_ms: int) -> UsageRecord:
        input_tokens, cached, output, reasoning, _total = delta
        cached = min(cached, input_tokens)
        model = self.state["model"]
        if not model:
            model = FALLBACK_MODEL
            self.stats.note(CODEX_MODEL_ASSUMED)
        key = "x:{}:{}".format(ts_ms, ":".join(map(str, current)))
        return UsageRecord(
            key,
            CODEX,
            ts_ms,
            self.state["session_id"],
            self.state["cwd"],
            model,
            input_tokens - cached,
            output,
            0,
            0,
            cached,
            reasoning,
            0,
            "",
            "",
            False,
            "",
            "",
            self.state.get("originator", ""),
        )

    def _rate_limits(self, limits: Any, ts_ms: int) -> None:
        if not isinstance(limits, dict):
            return
        plan = limits.get("plan_type") if isinstance(limits.get("plan_type"), str) else ""
        for name in ("primary", "secondary"):
            snapshot = _rate_limit(limits.get(name), ts_ms, plan or "")
            if snapshot is not None:
                self.rate_limits.append(snapshot)


def _counters(totals: Any) -> list[int] | None:
    if not isinstance(totals, dict):
        return None
    values = [totals.get(name) or 0 for name in COUNTER_FIELDS]
    if not all(type(v) is int and 0 <= v < _INT_LIMIT for v in values):
        return None  # not counts, or counts SQLite cannot hold
    return values


# -- the typed structs ------------------------------------------------------------------
#
# Only what :meth:`RolloutParser.feed` reads. A value of another type than declared fails
# the decode and the line is parsed in full instead, so the structs never decide
# differently from the dict-based code (tests/sources/test_codex_structs.py).


class _Window(msgspec.Struct):
    used_percent: float | None = None
    window_minutes: int | None = None
    resets_at: int | float | None = None
    resets_in_seconds: int | float | None = None


class _RateLimits(msgspec.Struct):
    primary: _Window | None = None
    secondary: _Window | None = None
    plan_type: str | None = None


class _Counters(msgspec.Struct):
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    total_tokens: int | None = None


class _Info(msgspec.Struct):
    total_token_usage: _Counters | None = None


class _Settings(msgspec.Struct):
    model: str | None = None


class _Mode(msgspec.Struct):
    settings: _Settings | None = None


class _Payload(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    cwd: str | None = None
    originator: str | None = None
    model: str | None = None
    collaboration_mode: _Mode | None = None
    info: _Info | None = None
    rate_limits: _RateLimits | None = None


class _Line(msgspec.Struct):
    type: str | None = None
    timestamp: str | None = None
    payload: _Payload | None = None


_HANDLED = frozenset({"session_meta", "turn_context", "event_msg"})
"""Line types :meth:`RolloutParser.feed` acts on; the rest are read only to be checked."""
_decode_lines = msgspec.json.Decoder(_Line).decode_lines
_decode_line = msgspec.json.Decoder(_Line).decode
_INT_LIMIT = 1 << 63


def _rate_limit(window: Any, ts_ms: int, plan: str) -> RateLimitSnapshot | None:
    if not isinstance(window, dict):
        return None
    used = window.get("used_percent")
    minutes = window.get("window_minutes")
    if not isinstance(used, int | float) or not isinstance(minutes, int):
        return None
    if not (math.isfinite(used) and 0 < minutes < _MAX_WINDOW_MINUTES):
        return None  # not a window: and SQLite holds no integer past 2^63
    resets_at = window.get("resets_at")
    resets_in = window.get("resets_in_seconds")
    resets_ms: int | None = None
    if isinstance(resets_at, int | float) and 0 <= resets_at < _MAX_EPOCH_S:
        resets_ms = int(resets_at * 1000)
    elif isinstance(resets_in, int | float) and 0 <= resets_in < _MAX_EPOCH_S:
        resets_ms = ts_ms + int(resets_in * 1000)
    return RateLimitSnapshot(CODEX, ts_ms, minutes, float(used), resets_ms, plan)


_MAX_WINDOW_MINUTES = 366 * 24 * 60
_MAX_EPOCH_S = 253_402_300_800
"""Seconds to the year 10000: any later reset time is not one."""
