"""One OpenCode message, and the model calls it stands for, as tokenbuddy records.

An assistant message (``MessageV2.Assistant`` in packages/opencode/src/session/message-v2.ts)
holds ``tokens {input, output, reasoning, cache {read, write}, total?}``, ``cost``,
``modelID``, ``providerID``, ``time {created, completed?}``, ``path {cwd, root}``, ``agent``
and ``summary`` (a compaction summary). The first message format (``session/message.ts``,
OpenCode 0.0.x) kept the same figures under ``metadata.assistant`` with the times in
``metadata.time``.

One message may span several model calls (steps). OpenCode's stream processor
(packages/opencode/src/session/processor.ts, ``finish-step``) writes a ``step-finish``
part with each step's own ``tokens`` and ``cost``, then sets the message's ``tokens`` to
that step's (replaced, not added) and adds the step's cost to the message's ``cost``. So
the message's tokens are its last step's alone: where step-finish parts exist, each is
one call (keyed by the part's id); a message without any is one call (keyed by its id).

Token meaning changed over OpenCode's versions (``getUsage`` in session/index.ts, later
session/session.ts):

- ``input`` was the provider's raw input count until the fix for OpenAI-compatible
  providers (anomalyco/opencode PR #4256, 2025-11-12): for every provider but Anthropic's
  own APIs it included cache reads and writes. Since then it excludes them.
- ``output`` was the provider's raw output count (which includes reasoning for OpenAI and
  Anthropic, but not Gemini's thoughts); since the move to AI SDK v6 OpenCode stores
  ``output - reasoning`` and prices ``reasoning`` at the output rate on top.
- ``total`` (when present) is the provider's own total: it tells the two apart exactly.

Without ``total`` the message's date and provider decide, as :func:`tokens_of` explains.
"""

from __future__ import annotations

from math import isfinite
from typing import Any, NamedTuple

from tokenbuddy.core.records import OPENCODE, ParseStats, PromptMark, SkipReason, UsageRecord

KEY_PREFIX = "oc:"
NO_USAGE = "assistant message with no usage (aborted, failed, or still streaming)"
NO_TIME = "assistant message without a creation time"
INPUT_WITH_CACHE = "input that counted the cache (OpenCode before 2025-11-12), converted"
CACHE_INCLUSIVE_UNTIL_MS = 1_763_000_000_000
"""2025-11-13 UTC: messages from before the input fix may count cache reads in ``input``."""
CACHE_EXCLUSIVE_PROVIDERS = frozenset({"anthropic", "amazon-bedrock", "google-vertex-anthropic"})
"""Providers whose raw input count always excluded cache reads and writes (Anthropic's API)."""
THOUGHTS_APART_PROVIDERS = ("google", "gemini")
"""Providers whose raw output count leaves thinking out (Gemini's ``thoughtsTokenCount``)."""


class Session(NamedTuple):
    """What a message's session says about it."""

    root_id: str
    """The top session (the session itself unless it is a subagent's)."""
    directory: str
    """The directory the session ran in; empty when unknown."""
    is_child: bool
    """A subagent's session (it has a parent)."""


class Tokens(NamedTuple):
    """One call's tokens in tokenbuddy's meaning."""

    input: int
    output: int
    """Output, reasoning included."""
    reasoning: int
    cache_read: int
    cache_write: int

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_write


def assistant_fields(message: dict[str, Any]) -> dict[str, Any]:
    """The fields of a message of either format: the first format nested the assistant's
    figures in ``metadata.assistant`` and every message's times in ``metadata.time``."""
    metadata = message.get("metadata")
    if "time" in message or not isinstance(metadata, dict):
        return message
    assistant = metadata.get("assistant")
    merged = dict(assistant) if isinstance(assistant, dict) else {}
    merged["time"] = metadata.get("time")
    merged["sessionID"] = metadata.get("sessionID")
    return merged


def message_role(message: dict[str, Any]) -> str:
    """``user`` or ``assistant`` (or whatever else a later version writes)."""
    role = message.get("role")
    return role if isinstance(role, str) else ""


def message_times(fields: dict[str, Any]) -> tuple[int | None, int | None]:
    """(created, completed) in epoch ms; None where absent or invalid."""
    time = fields.get("time")
    if not isinstance(time, dict):
        return None, None
    return _epoch_ms(time.get("created")), _epoch_ms(time.get("completed"))


def _epoch_ms(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return int(value)


def _count(value: Any) -> int | None:
    """A token count: a non-negative finite number, rounded; None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not isfinite(value):
        return None
    return max(int(value), 0)


class Stored(NamedTuple):
    """A ``tokens`` object's counts as OpenCode stored them."""

    input: int
    output: int
    reasoning: int
    cache: int
    """Cache reads and writes."""
    total: int
    """The provider's own total; 0 when absent."""


def tokens_of(raw: Any, provider: str, created_ms: int) -> tuple[Tokens, bool] | None:
    """A call's tokens in our meaning, and whether ``input`` counted the cache (converted);
    None when ``raw`` is not an OpenCode ``tokens`` object.

    With ``total`` the sum says which meaning was stored. Without it: ``input`` counted
    the cache before the fix date for providers other than Anthropic's APIs, when it is at
    least the cache; ``output`` left reasoning out for Gemini providers, or when it is
    smaller than the reasoning (it cannot then include it).
    """
    if not isinstance(raw, dict):
        return None
    cache: dict[str, Any] = raw["cache"] if isinstance(raw.get("cache"), dict) else {}
    values = [raw.get("input"), raw.get("output"), raw.get("reasoning", 0)]
    values += [cache.get("read", 0), cache.get("write", 0), raw.get("total") or 0]
    counts = [_count(value) for value in values]
    if any(count is None for count in counts):
        return None
    fed, out, reasoning, read, write, total = (int(count or 0) for count in counts)
    stored = Stored(fed, out, reasoning, read + write, total)
    inclusive = _input_counts_cache(stored, provider, created_ms)
    if inclusive:
        fed -= read + write
        stored = stored._replace(input=fed)
    if _output_leaves_reasoning(stored, provider):
        out += reasoning
    return Tokens(fed, out, min(reasoning, out), read, write), inclusive


def _input_counts_cache(stored: Stored, provider: str, created_ms: int) -> bool:
    if stored.cache == 0 or stored.input < stored.cache:
        return False
    if stored.total:
        fed, out = stored.input, stored.output
        return stored.total in (fed + out, fed + out + stored.reasoning)
    return created_ms < CACHE_INCLUSIVE_UNTIL_MS and provider not in CACHE_EXCLUSIVE_PROVIDERS


def _output_leaves_reasoning(stored: Stored, provider: str) -> bool:
    if stored.reasoning == 0:
        return False
    if stored.total:
        return stored.total >= stored.input + stored.cache + stored.output + stored.reasoning
    return stored.reasoning > stored.output or any(
        name in provider for name in THOUGHTS_APART_PROVIDERS
    )


def model_name(fields: dict[str, Any]) -> str:
    """The model id as a price database knows it: lowercase, any ``vendor/`` prefix (an
    OpenRouter or gateway route) dropped; empty when the message names none."""
    model = fields.get("modelID")
    if not isinstance(model, str):
        return ""
    return model.strip().rsplit("/", 1)[-1].lower()


def cost_of(value: Any) -> float | None:
    """OpenCode's own dollar figure; None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not isfinite(value):
        return None
    return float(value)


def build_record(
    key: str, fields: dict[str, Any], tokens: Tokens, *, cost: float | None, ts_ms: int,
    session: Session,
) -> UsageRecord:  # fmt: skip
    """One call's record from its message's fields and its own tokens and cost."""
    agent = fields.get("agent") or fields.get("mode") or ""
    path = fields.get("path")
    cwd = path.get("cwd") if isinstance(path, dict) else None
    project = cwd if isinstance(cwd, str) and cwd else session.directory
    compaction = fields.get("summary") is True or agent == "compaction"
    sidechain = session.is_child or compaction
    agent_type = "compaction" if compaction else (str(agent) if session.is_child else "")
    agent_id = str(fields.get("sessionID") or "") if session.is_child else ""
    return UsageRecord(
        KEY_PREFIX + key, OPENCODE, ts_ms, session.root_id, project, model_name(fields),
        tokens.input, tokens.output, tokens.cache_write, 0, tokens.cache_read,
        tokens.reasoning, 0, "", "", sidechain, agent_id, agent_type, "", cost,
    )  # fmt: skip


def message_calls(
    message_id: str,
    message: dict[str, Any],
    steps: list[tuple[str, dict[str, Any]]],
    session: Session,
    stats: ParseStats,
) -> list[UsageRecord]:
    """The records of one assistant message: one per ``(part id, step-finish part)`` in
    ``steps``, or, without any, one from the message's own totals."""
    fields = assistant_fields(message)
    created, completed = message_times(fields)
    if created is None:
        stats.skip(NO_TIME)
        return []
    provider = str(fields.get("providerID") or "").lower()
    calls = [(key, step.get("tokens"), step.get("cost")) for key, step in steps]
    if not calls:
        calls = [(message_id, fields.get("tokens"), fields.get("cost"))]
    records = []
    for key, raw, cost in calls:
        found = tokens_of(raw, provider, created)
        if found is None:
            stats.skip(SkipReason.BAD_USAGE)
            continue
        tokens, converted = found
        if tokens.total == 0:
            stats.skip(NO_USAGE)
            continue
        if not model_name(fields):
            stats.skip(SkipReason.NO_MODEL)
            continue
        if converted:
            stats.note(INPUT_WITH_CACHE)
        ts_ms = completed or created
        record = build_record(key, fields, tokens, cost=cost_of(cost), ts_ms=ts_ms, session=session)
        records.append(record)
    return records


def prompt_of(message: dict[str, Any], session: Session) -> PromptMark | None:
    """A person's prompt: a user message in a top session (a subagent's are the task
    tool's words, not a person's)."""
    if session.is_child:
        return None
    created, _completed = message_times(assistant_fields(message))
    return None if created is None else PromptMark(OPENCODE, session.root_id, created)


def is_step_finish(part: Any) -> bool:
    """Whether a part is a ``step-finish`` part (one model call's usage)."""
    return isinstance(part, dict) and part.get("type") == "step-finish"
