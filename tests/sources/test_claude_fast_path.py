"""The typed fast path for Claude Code usage lines decides exactly as the full path does.

``parse_chunk`` first decodes a usage line into structs that declare only the
fields a record needs, and hands anything unusual to ``load_line`` +
``record_from``. These tests run every line both ways (the fast path switched
off by monkeypatching) and require identical records, counters and notes.
"""

from __future__ import annotations

import copy
import itertools
import random
from typing import Any

import msgspec
import orjson
import pytest

from tokenbuddy.core.records import INVALID_UTF8_REPAIRED, ParseStats, PromptMark, SkipReason
from tokenbuddy.sources import claude_code
from tokenbuddy.sources.claude_code import FileContext, parse_chunk

CONTEXT = FileContext("file-session", "-home-dev-proj")
SUBAGENT = FileContext("parent-session", "-home-dev-proj", "a1b2", "Explore")


def assistant() -> dict[str, Any]:
    return {
        "parentUuid": "p",
        "isSidechain": False,
        "type": "assistant",
        "sessionId": "7ef4b236",
        "cwd": "/home/dev/volcano",
        "timestamp": "2026-04-08T13:53:21.935Z",
        "requestId": "req_011CZ",
        "uuid": "d4319f4c",
        "agentId": "",
        "message": {
            "id": "msg_01Af",
            "type": "message",
            "model": "claude-opus-4-6",
            "content": [{"type": "text", "text": 'a reply with "usage" in it'}],
            "usage": {
                "input_tokens": 3,
                "cache_creation_input_tokens": 10816,
                "cache_read_input_tokens": 11327,
                "output_tokens": 138,
                "cache_creation": {
                    "ephemeral_1h_input_tokens": 10000,
                    "ephemeral_5m_input_tokens": 0,
                },
                "server_tool_use": {"web_search_requests": 2},
                "iterations": [{"input_tokens": 3, "output_tokens": 138}],
                "speed": "fast",
                "inference_geo": "us",
            },
        },
    }


def progress() -> dict[str, Any]:
    inner = assistant()
    inner["requestId"] = "req_inner"
    return {
        "type": "progress",
        "sessionId": "outer-session",
        "cwd": "/home/dev/outer",
        "timestamp": "2026-04-08T13:54:00Z",
        "data": {"type": "agent_progress", "agentId": "sub-1", "message": inner},
    }


ODD_VALUES: list[Any] = [
    None,
    "",
    "text",
    0,
    -1,
    1.0,
    True,
    False,
    2**63,
    2**64 - 1,
    [],
    {},
    {"nested": 1},
]

PATHS: list[tuple[str, ...]] = [
    ("type",),
    ("isSidechain",),
    ("sessionId",),
    ("cwd",),
    ("timestamp",),
    ("requestId",),
    ("agentId",),
    ("isApiErrorMessage",),
    ("uuid",),
    ("message",),
    ("message", "id"),
    ("message", "model"),
    ("message", "usage"),
    ("message", "usage", "input_tokens"),
    ("message", "usage", "output_tokens"),
    ("message", "usage", "cache_creation_input_tokens"),
    ("message", "usage", "cache_read_input_tokens"),
    ("message", "usage", "cache_creation"),
    ("message", "usage", "cache_creation", "ephemeral_5m_input_tokens"),
    ("message", "usage", "cache_creation", "ephemeral_1h_input_tokens"),
    ("message", "usage", "server_tool_use"),
    ("message", "usage", "server_tool_use", "web_search_requests"),
    ("message", "usage", "speed"),
    ("message", "usage", "inference_geo"),
]


def _set(line: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(line)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def _delete(line: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(line)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target.pop(path[-1], None)
    return changed


def _three_ways(
    monkeypatch: pytest.MonkeyPatch, chunk: bytes, context: FileContext
) -> tuple[Any, Any, Any]:
    """(read whole, read line by line, the dict-based reference) for one buffer."""

    def run() -> Any:
        stats, prompts = ParseStats(), []  # type: ignore[var-annotated]
        records = parse_chunk(chunk, context, stats, prompts)
        # Prompts are a set to the ledger; read line by line, they come in two passes.
        prompts.sort()
        return records, prompts, stats.lines, stats.records, dict(stats.skipped), dict(stats.notes)

    def undecodable(data: bytes) -> Any:
        raise msgspec.DecodeError("as if the buffer held a malformed line")

    whole = run()
    with monkeypatch.context() as patch:
        patch.setattr(claude_code, "_decode_lines", undecodable)
        by_line = run()
        patch.setattr(claude_code, "_decode_one", lambda line: None)
        reference = run()
    return whole, by_line, reference


def _both_ways(
    monkeypatch: pytest.MonkeyPatch, chunk: bytes, context: FileContext
) -> tuple[Any, Any]:
    """(read whole, reference), after checking that line by line gives the reference."""
    whole, by_line, reference = _three_ways(monkeypatch, chunk, context)
    assert by_line == reference, chunk
    return whole, reference


def user_prompt() -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "type": "user",
        "sessionId": "7ef4b236",
        "cwd": "/home/dev/volcano",
        "entrypoint": "cli",
        "timestamp": "2026-04-08T13:50:00.000Z",
        "uuid": "u1",
        "message": {"role": "user", "content": [{"type": "text", "text": "fix the build"}]},
    }


USER_PATHS: list[tuple[str, ...]] = [
    ("type",),
    ("isSidechain",),
    ("isMeta",),
    ("isCompactSummary",),
    ("toolUseResult",),
    ("entrypoint",),
    ("timestamp",),
    ("sessionId",),
    ("message",),
    ("message", "content"),
]
USER_VALUES: list[Any] = [
    *ODD_VALUES,
    "sdk-cli",
    "fix it",
    [{"type": "image"}],
    [{"type": "tool_result", "content": "x"}, {"type": "text"}],
    [{"text": "no type"}],
    ["a string block"],
    [{"type": []}, {"type": "text"}],
    {"type": "text"},
]


def _user_variants() -> list[bytes]:
    base = user_prompt()
    lines = [orjson.dumps(base)]
    for path, value in itertools.product(USER_PATHS, USER_VALUES):
        lines.append(orjson.dumps(_set(base, path, value)))
    lines += [orjson.dumps(_delete(base, path)) for path in USER_PATHS]
    return lines


def _variants() -> list[bytes]:
    lines: list[bytes] = []
    for base in (assistant(), progress()):
        lines.append(orjson.dumps(base))
        for path, value in itertools.product(PATHS, ODD_VALUES):
            full_path = path if base["type"] == "assistant" else ("data", "message", *path)
            lines.append(orjson.dumps(_set(base, full_path, value)))
        for path in PATHS:
            full_path = path if base["type"] == "assistant" else ("data", "message", *path)
            lines.append(orjson.dumps(_delete(base, full_path)))
    return lines


@pytest.mark.parametrize("context", [CONTEXT, SUBAGENT], ids=["main", "subagent"])
def test_every_field_variant_is_decided_as_the_full_path_decides(
    monkeypatch: pytest.MonkeyPatch, context: FileContext
) -> None:
    lines = _variants() + _user_variants()
    assert len(lines) > 800
    for line in lines:
        fast, full = _both_ways(monkeypatch, line + b"\n", context)
        assert fast == full, line


def test_prompts_are_found_by_the_structs_too(monkeypatch: pytest.MonkeyPatch) -> None:
    whole, _, reference = _three_ways(monkeypatch, orjson.dumps(user_prompt()) + b"\n", CONTEXT)
    assert whole[1] == reference[1] == [PromptMark("claude-code", "7ef4b236", 1775656200000)]


def test_text_level_oddities_are_decided_as_the_full_path_decides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = orjson.dumps(assistant())
    oddities = [
        base.replace(b'"usage":{', b'"usage" : {'),  # written with spaces
        b'{"usage":{"input_tokens":1},' + base[1:],  # a duplicate key: the last one wins
        base.replace(b"a reply", b"a \\ud800 reply"),  # a lone surrogate escape in text
        base[: len(base) // 2],  # truncated
        base[: len(base) // 2] + base,  # truncated, then a whole record glued on
        b"[" + base + b"]",  # not an object
        base.replace(b'"assistant"', b'"assistant-v9"', 1),  # an unknown record type
        base.replace(b'"type":"assistant"', b'"type":"user"'),
        base + b" trailing",
    ]
    for line in oddities:
        fast, full = _both_ways(monkeypatch, line + b"\n", CONTEXT)
        assert fast == full, line


def test_invalid_utf8_in_skipped_text_is_only_noted_line_by_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one documented difference: read whole, stray bytes in text go unnoticed."""
    line = orjson.dumps(assistant()).replace(b"a reply", b"a \xff reply") + b"\n"
    whole, by_line, reference = _three_ways(monkeypatch, line, CONTEXT)
    assert by_line == reference
    assert reference[-1] == {INVALID_UTF8_REPAIRED: 1}
    assert whole[:-1] == reference[:-1] and whole[-1] == {}


def test_two_records_on_one_line_both_count_when_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _set(assistant(), ("requestId",), "req_first")
    glued = orjson.dumps(first) + orjson.dumps(assistant()) + b"\n"
    whole, _, reference = _three_ways(monkeypatch, glued, CONTEXT)
    assert [r.dedup_key for r in whole[0]] == ["c:msg_01Af:req_first", "c:msg_01Af:req_011CZ"]
    assert [r.dedup_key for r in reference[0]] == ["c:msg_01Af:req_011CZ"]
    assert reference[4] == {SkipReason.TRUNCATED: 1}


def test_random_usage_lines_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    lines = _variants() + _user_variants()
    for _ in range(40):
        chunk = b"\n".join(rng.sample(lines, 30)) + b"\n"
        fast, full = _both_ways(monkeypatch, chunk, rng.choice([CONTEXT, SUBAGENT]))
        assert fast == full


def test_the_fast_path_reads_the_common_line_itself() -> None:
    """The ordinary line is settled without the full path (else there is no fast path)."""
    value = claude_code._decode_one(orjson.dumps(assistant()))
    assert value is not None
    record = claude_code._record_from_value(value, CONTEXT, ParseStats())
    assert record is not None
    assert (record.dedup_key, record.cache_write_5m_tokens, record.cache_write_1h_tokens) == (
        "c:msg_01Af:req_011CZ",
        816,
        10000,
    )
    assert (record.web_search_requests, record.speed, record.inference_geo) == (2, "fast", "us")


def test_counts_beyond_sqlite_integers_are_bad_usage() -> None:
    line = _set(assistant(), ("message", "usage", "output_tokens"), 2**63)
    stats = ParseStats()
    assert parse_chunk(orjson.dumps(line) + b"\n", CONTEXT, stats) == []
    assert stats.skipped == {SkipReason.BAD_USAGE: 1}
