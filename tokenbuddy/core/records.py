"""The records every source is turned into.

Token counts have one meaning across sources:

- ``input_tokens``: uncached input;
- ``cache_read_tokens``: cached input;
- ``cache_write_5m_tokens`` / ``cache_write_1h_tokens``: cache writes by TTL;
- ``output_tokens``: output, reasoning included.

OpenAI and Codex count cached tokens inside ``input_tokens``; their sources
convert before building a record.

The hot path builds hundreds of thousands of these, so they are NamedTuples
validated by the source parsers, not pydantic models: a tuple is cheap to
create, to pickle between worker processes and to hand to ``executemany``.
"""

from __future__ import annotations

from typing import NamedTuple

CLAUDE_CODE = "claude-code"
CODEX = "codex"
CURSOR = "cursor"
"""Cursor's billed usage: API usage events and imported dashboard CSV rows, priced by
what Cursor charged."""
CURSOR_LOCAL = "cursor-local"
"""Estimates from Cursor's local chat store (``state.vscdb``), priced at list price. Where
billed ``cursor`` rows cover a period, they replace these in every total."""
GEMINI_CLI = "gemini-cli"
COPILOT = "copilot"
"""GitHub Copilot: the Copilot CLI and Copilot Chat in VS Code (the entrypoint tells them apart)."""
OPENCODE = "opencode"
QWEN_CODE = "qwen-code"
CLINE = "cline"
"""Cline and its forks Roo Code and Kilo Code (the entrypoint names the extension)."""
SOURCES = (
    CLAUDE_CODE,
    CODEX,
    CURSOR,
    CURSOR_LOCAL,
    GEMINI_CLI,
    COPILOT,
    OPENCODE,
    QWEN_CODE,
    CLINE,
)
BILLED_BY_AGENT = frozenset({COPILOT, CURSOR})
"""Sources whose own figure for a request (``reported_cost_usd``) is what was billed: it
counts in every total, and the list price is only its fallback (Copilot's AI credits;
Cursor's billed rows, where a usage event or an export's Cost column says what was
charged; a Cursor export without a Cost column is priced at list price, an estimate)."""


class UsageRecord(NamedTuple):
    """One billed model request, as a source saw it."""

    dedup_key: str
    """Identity of the request across files: the same request seen twice has the same key."""
    source: str
    """Which agent wrote it: one of :data:`SOURCES`."""
    ts_ms: int
    """When the request completed, in epoch milliseconds (UTC)."""
    session_id: str
    """The agent session (for subagents, the parent session)."""
    project: str
    """The working directory the agent ran in; empty when unknown."""
    model: str
    """The model id as the vendor reported it."""
    input_tokens: int
    output_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    cache_read_tokens: int
    reasoning_tokens: int
    """Part of ``output_tokens`` spent reasoning, where the source says so."""
    web_search_requests: int
    speed: str
    """``fast`` for fast mode, else empty."""
    inference_geo: str
    """``us`` for US-only inference, else empty."""
    is_sidechain: bool
    """True for subagent work (Task/Explore agents, /btw, compaction)."""
    agent_id: str
    agent_type: str
    """The subagent's type (``Explore``, ``general-purpose``, ``aside_question``...)."""
    entrypoint: str = ""
    """How the session was started, as the agent wrote it: Claude Code's ``entrypoint``
    (``cli``, ``claude-desktop``, ``sdk-cli`` for ``claude -p``...), Codex's ``originator``
    (``codex_cli_rs``, ``codex_exec``...); empty when the log does not say.
    :func:`tokenbuddy.core.entrypoints.is_scripted` tells a script's from a person's.
    Agents with several front ends name the one used: ``copilot-cli`` or ``vscode`` for
    Copilot, the extension (``cline``, ``roo-code``, ``kilo-code``) for Cline."""
    reported_cost_usd: float | None = None
    """The agent's own figure for what the request cost, in USD, where it records one
    (OpenCode's and Cline's ``cost``, Copilot's AI credits); None when it does not. Kept
    next to the list-price estimate, and counted instead of it for the sources in
    :data:`BILLED_BY_AGENT`."""
    billing_units: float = 0.0
    """The agent's own billing units for the request, where it records them (Copilot's
    premium requests)."""

    @property
    def cache_write_tokens(self) -> int:
        """All cache writes, whatever their TTL."""
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def total_tokens(self) -> int:
        """Every token the request carried; decides which duplicate is final."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_write_5m_tokens
            + self.cache_write_1h_tokens
            + self.cache_read_tokens
        )


class RateLimitSnapshot(NamedTuple):
    """A subscription window's utilisation as the agent reported it."""

    source: str
    ts_ms: int
    window_minutes: int
    """300 for the 5-hour window, 10080 for the weekly one."""
    used_percent: float
    resets_at_ms: int | None
    plan: str


class PromptMark(NamedTuple):
    """A human prompt: when someone last steered a session (tool results do not count)."""

    source: str
    session_id: str
    ts_ms: int


class SkipReason:
    """Why a line was not counted; the names show up in ``tokenbuddy doctor``."""

    INVALID_JSON = "invalid JSON"
    INVALID_UTF8 = "invalid UTF-8"
    LINE_TOO_LONG = "line over 10 MB"
    TRUNCATED = "truncated line (a later record was recovered from it)"
    NOT_AN_OBJECT = "not a JSON object"
    SYNTHETIC = "<synthetic> record (client-side error, no usage)"
    API_ERROR = "API error record"
    BAD_USAGE = "usage with missing or invalid fields"
    NO_TIMESTAMP = "no valid timestamp"
    IMPLAUSIBLE_DATE = "implausible date (before 2020 or over a day ahead of the clock)"
    UNKNOWN_TYPE = "unknown record type"
    NO_MODEL = "no model"


EARLIEST_PLAUSIBLE_MS = 1_577_836_800_000
"""2020-01-01 UTC: no coding agent whose logs tokenbuddy reads wrote a request before it."""
FUTURE_LEEWAY_MS = 86_400_000
"""A day: more than this ahead of the clock is a wrong clock, not a time zone."""


def plausible_time(ts_ms: int, now_ms: int) -> bool:
    """Whether a request could have been made at ``ts_ms``: from 2020 to a day from now.

    Every source's records are judged by this one rule, so a record dated 1900 and one
    dated 3000 fare alike: neither is counted, both are counted as skipped lines.
    """
    return EARLIEST_PLAUSIBLE_MS <= ts_ms <= now_ms + FUTURE_LEEWAY_MS


CODEX_MODEL_ASSUMED = "Codex requests before any turn_context, priced as gpt-5"
INVALID_UTF8_REPAIRED = "lines with invalid UTF-8 bytes, read with the bytes replaced"


class ParseStats:
    """Counters one file's parse produces; merged into the ledger per file."""

    __slots__ = ("lines", "notes", "records", "skipped")

    def __init__(self) -> None:
        self.lines = 0
        self.records = 0
        self.skipped: dict[str, int] = {}
        self.notes: dict[str, int] = {}
        """Counted facts that are not skips (an assumed model, say)."""

    def skip(self, reason: str, count: int = 1) -> None:
        """Count ``count`` lines skipped for ``reason``."""
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def note(self, fact: str, count: int = 1) -> None:
        """Count ``count`` occurrences of a noteworthy ``fact``."""
        self.notes[fact] = self.notes.get(fact, 0) + count

    def merge(self, other: ParseStats) -> None:
        """Add another file's counters to these."""
        self.lines += other.lines
        self.records += other.records
        for reason, count in other.skipped.items():
            self.skip(reason, count)
        for fact, count in other.notes.items():
            self.note(fact, count)
