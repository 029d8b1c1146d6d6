"""Model ids as the vendors write them, read two ways: the Claude family a request ran
on, and the id without its date suffix."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tokenbuddy.core.records import CLAUDE_CODE

if TYPE_CHECKING:
    from tokenbuddy.core.records import UsageRecord

_CLAUDE_FAMILY = re.compile(r"(opus|sonnet|haiku)")
_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


def claude_family(record: UsageRecord) -> str | None:
    """``opus``, ``sonnet`` or ``haiku`` for a Claude Code request, else None."""
    if record.source != CLAUDE_CODE:
        return None
    match = _CLAUDE_FAMILY.search(record.model.lower())
    return match.group(1) if match else None


def undated_model(model: str) -> str:
    """A model id without its date suffix, so local and billed names meet.

    ``claude-sonnet-4-5-20250929`` and ``gpt-4o-2024-08-06`` become ``claude-sonnet-4-5``
    and ``gpt-4o``.
    """
    return _DATE_SUFFIX.sub("", model.strip())


UNRECORDED_MODEL = "(model not recorded)"
"""How a request whose log names no model (Roo Code's and Kilo Code's) is shown."""


def model_label(model: str) -> str:
    """A model id as people read it: :data:`UNRECORDED_MODEL` when there is none."""
    return model or UNRECORDED_MODEL
