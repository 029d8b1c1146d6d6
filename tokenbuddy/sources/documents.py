"""What one read of one document found: the type a :class:`~tokenbuddy.sources.registry.Documents`
reader returns, kept apart from the registry so that readers the registry lists can
build it without importing the registry back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from tokenbuddy.core.records import PromptMark, UsageRecord


class DocumentRead(NamedTuple):
    """What one read of one document found."""

    records: list[UsageRecord]
    prompts: list[PromptMark]
    state: dict[str, Any]
    """What the next read of the document carries on from (stored with its cursor)."""
    whole: bool = True
    """True when the read covered the whole document, so its counters replace the last
    read's; False for a read of what changed since ``state`` (counters add up)."""
