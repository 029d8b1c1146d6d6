"""Gemini CLI chat shapes the recording writes outside the common path: a synthetic
message that took a call's queued tokens with no model, a message with no id, a
record whose ``type`` is not a string; read directly, each call checked exactly."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.sources.gemini_cli import files
from tests.sources.gemini_cli.files import JsonlChat, gemini, tokens, user
from tokenbuddy.core.records import ParseStats, SkipReason
from tokenbuddy.sources import gemini_cli

ROOT = "/home/dev/app"
SESSION = "5e55a0b1-0000-4000-8000-000000000009"
PRO = "gemini-2.5-pro"


def read(path: Path, state: dict[str, object] | None = None) -> tuple[list, ParseStats, dict]:
    stats = ParseStats()
    found = gemini_cli.read(str(path), state or {}, stats)
    return found.records, stats, found.state


def test_a_message_with_no_model_is_priced_at_the_chats_previous_model(tmp_path: Path) -> None:
    """``recordSyntheticMessage`` records a ``gemini`` message with ``model`` undefined
    (absent from the JSON) that takes the queued tokens of the call just made."""
    chat = JsonlChat.main(files.project_dir(tmp_path, "app", ROOT), SESSION, ROOT)
    chat.append(gemini("g0", "2025-12-01T09:00:30.000Z", None, tokens(900, 10)))
    chat.append(gemini("g1", "2025-12-01T09:01:00.000Z", PRO, tokens(1_000, 100)))
    first, stats, state = read(chat.path)
    synthetic = gemini("g2", "2025-12-01T09:02:00.000Z", None, tokens(2_000, 50, 1_500))
    del synthetic["model"]
    chat.append(synthetic)
    later, later_stats, _state = read(chat.path, state)
    assert [(r.dedup_key, r.model) for r in first] == [
        (f"gm:{SESSION}:g0", ""),
        (f"gm:{SESSION}:g1", PRO),
    ]
    assert stats.notes == {gemini_cli.NO_MODEL: 1}
    assert [(r.model, r.input_tokens, r.cache_read_tokens, r.output_tokens) for r in later] == [
        (PRO, 500, 1_500, 50)
    ]
    assert later_stats.notes == {gemini_cli.MODEL_CARRIED: 1}


def test_a_legacy_message_with_no_id_is_a_counted_skip_not_a_crash(tmp_path: Path) -> None:
    directory = files.project_dir(tmp_path, files.project_hash(ROOT))
    nameless = gemini("x", "2025-09-01T10:00:05.000Z", PRO, tokens(700, 70))
    del nameless["id"]
    numbered = gemini("y", "2025-09-01T10:00:06.000Z", PRO, tokens(800, 80)) | {"id": 7}
    messages = [
        user("u1", "2025-09-01T10:00:00.000Z"),
        nameless,
        numbered,
        gemini("g1", "2025-09-01T10:00:09.000Z", PRO, tokens(1_000, 100)),
    ]
    path = files.legacy_chat(directory, SESSION, ROOT, messages)
    records, stats, _state = read(path)
    assert [(r.dedup_key, r.input_tokens) for r in records] == [(f"gm:{SESSION}:g1", 1_000)]
    assert stats.skipped == {gemini_cli.NO_MESSAGE_ID: 2}


def test_a_type_that_is_not_a_string_is_an_unknown_record(tmp_path: Path) -> None:
    chat = JsonlChat.main(files.project_dir(tmp_path, "app", ROOT), SESSION, ROOT)
    chat.append({"id": "odd", "timestamp": "2025-12-01T09:00:00.000Z", "type": ["gemini"]})
    chat.append({"id": "odder", "timestamp": "2025-12-01T09:00:00.000Z", "type": {"a": 1}})
    chat.append(gemini("g1", "2025-12-01T09:01:00.000Z", PRO, tokens(1_000, 100)))
    records, stats, _state = read(chat.path)
    assert [r.dedup_key for r in records] == [f"gm:{SESSION}:g1"]
    assert stats.skipped == {SkipReason.UNKNOWN_TYPE: 2}


def test_a_legacy_chat_whose_messages_hold_odd_values_still_reads(tmp_path: Path) -> None:
    """A whole ``.json`` with a list for a message's type among real messages."""
    directory = files.project_dir(tmp_path, files.project_hash(ROOT))
    odd = gemini("g0", "2025-09-01T10:00:05.000Z", PRO, tokens(5, 5)) | {"type": []}
    messages = [odd, gemini("g1", "2025-09-01T10:00:09.000Z", PRO, tokens(1_000, 100))]
    path = files.legacy_chat(directory, SESSION, ROOT, messages)
    assert orjson.loads(path.read_bytes())["messages"][0]["type"] == []
    records, stats, _state = read(path)
    assert [r.output_tokens for r in records] == [100]
    assert stats.skipped == {SkipReason.UNKNOWN_TYPE: 1}
