"""Cursor's conversations ("composers") turned into estimated requests.

One request is one ``requestId`` holding an assistant bubble; its tokens are the sum
of its bubbles' ``tokenCount`` (real counts). Requests whose bubbles carry no tokens
(common in newer builds) take the conversation-level figures where there are some
(:mod:`.conversation_tokens`: estimated counts), and otherwise are kept with zero tokens
and no cost: requests with unknown tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tokenbuddy.core.cursor_reads import DbRead
from tokenbuddy.core.records import CURSOR_LOCAL, UsageRecord
from tokenbuddy.sources.cursor_local.conversation_tokens import (
    Counts,
    conversation_totals,
    latest_context,
    request_context,
)

KNOWN_VERSIONS = frozenset({1, 2, 3})
"""``_v`` values of ``composerData`` the documented shapes describe; others are read the
same way, and counted in ``doctor`` so a changed shape shows."""
USER_BUBBLE, ASSISTANT_BUBBLE = 1, 2


class Skip:
    """Why a stored value was not used; the names show up in ``tokenbuddy doctor``."""

    CORRUPT_JSON = "value that is not valid JSON"
    NOT_AN_OBJECT = "value that is not a JSON object"
    NO_TIMESTAMP = "request with no usable timestamp"


def composer_records(
    composer_id: str,
    composer: dict[str, Any],
    bubbles: list[dict[str, Any]],
    project: str,
    result: DbRead,
) -> tuple[list[UsageRecord], int]:
    """One record per request (``requestId``) that holds an assistant bubble, and how many
    of them carry estimated (conversation-level) counts."""
    model_config = composer.get("modelConfig")
    model = str(model_config.get("modelName") or "") if isinstance(model_config, dict) else ""
    fallback_ms = epoch_ms(composer.get("lastUpdatedAt")) or epoch_ms(composer.get("createdAt"))
    requests: dict[str, _Request] = {}
    for bubble in bubbles:
        kind = bubble.get("type")
        model = _bubble_model(bubble) or model
        group = str(bubble.get("requestId") or bubble.get("bubbleId") or id(bubble))
        request = requests.setdefault(group, _Request(model or "default"))
        request.add(bubble, kind == ASSISTANT_BUBBLE)
    answered = {group: r for group, r in requests.items() if r.has_answer}
    estimated = _estimate(composer, list(answered.values()))
    records = []
    for group, request in answered.items():
        ts_ms = request.ts_ms or fallback_ms
        if not ts_ms:
            result.count(result.skipped, Skip.NO_TIMESTAMP)
            continue
        records.append(
            request.record(f"{CURSOR_LOCAL}:{composer_id}:{group}", composer_id, project, ts_ms)
        )
    return records, estimated


def _estimate(composer: dict[str, Any], requests: list[_Request]) -> int:
    """Fill in the requests without counts from the conversation's figures; returns how
    many were filled in."""
    missing = [r for r in requests if not r.counts.total]
    if not missing:
        return 0
    real = Counts()
    for request in requests:
        real = Counts(*(a + b for a, b in zip(_fields(real), _fields(request.counts), strict=True)))
    left = conversation_totals(composer).minus(real)
    if left.total:
        for index, request in enumerate(missing):
            request.counts = left.share(len(missing), index)
    elif any(r.context for r in missing):
        for request in missing:
            request.counts = Counts(input=request.context)
    elif latest_context(composer):
        missing[-1].counts = Counts(input=latest_context(composer))
    return sum(1 for r in missing if r.counts.total)


def _fields(counts: Counts) -> tuple[int, int, int, int]:
    return counts.input, counts.output, counts.cache_read, counts.cache_write


def _bubble_model(bubble: dict[str, Any]) -> str:
    info = bubble.get("modelInfo")
    return str(info.get("modelName") or "") if isinstance(info, dict) else ""


@dataclass(slots=True)
class _Request:
    """Bubbles sharing one ``requestId``: their tokens and the latest answer's time."""

    model: str
    counts: Counts = field(default_factory=Counts)
    context: int = 0
    """The context size the user bubble recorded when the request was sent."""
    ts_ms: int | None = None
    has_answer: bool = False

    def add(self, bubble: dict[str, Any], answer: bool) -> None:
        tokens = bubble.get("tokenCount")
        if isinstance(tokens, dict):
            self.counts.input += _count(tokens.get("inputTokens"))
            self.counts.output += _count(tokens.get("outputTokens"))
        self.context = self.context or request_context(bubble)
        if answer:
            self.has_answer = True
            stamp = epoch_ms(bubble.get("createdAt"))
            if stamp and (self.ts_ms is None or stamp > self.ts_ms):
                self.ts_ms = stamp

    def record(self, key: str, session_id: str, project: str, ts_ms: int) -> UsageRecord:
        tokens = self.counts
        return UsageRecord(
            key, CURSOR_LOCAL, ts_ms, session_id, project, self.model,
            tokens.input, tokens.output, tokens.cache_write, 0, tokens.cache_read,
            0, 0, "", "", False, "", "",
        )  # fmt: skip


_INT_LIMIT = 1 << 53
"""Counts and times past this are not real (and SQLite holds no integer past 2^63)."""


def _count(value: Any) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < _INT_LIMIT
    return value if ok else 0


def epoch_ms(value: Any) -> int | None:
    """Epoch ms from an int, a numeric string or an ISO timestamp; None when unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if 0 < value < _INT_LIMIT else None
    if isinstance(value, str) and value:
        if value.isdigit():
            return int(value) if 0 < int(value) < _INT_LIMIT else None
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return None
