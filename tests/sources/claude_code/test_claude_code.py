"""Parsing Claude Code transcript lines into usage records."""

from __future__ import annotations

import os

import orjson
import pytest

from tokenbuddy.core.records import ParseStats, PromptMark, SkipReason
from tokenbuddy.sources.claude_code import FileContext, context_for, parse_chunk, record_from

CONTEXT = FileContext("file-session", "-home-dev-proj")


def assistant(**overrides: object) -> dict[str, object]:
    usage = {
        "input_tokens": 3,
        "cache_creation_input_tokens": 10816,
        "cache_read_input_tokens": 11327,
        "output_tokens": 138,
        "cache_creation": {"ephemeral_1h_input_tokens": 10816, "ephemeral_5m_input_tokens": 0},
        "iterations": [{"input_tokens": 3, "output_tokens": 138}],
        "speed": "standard",
        "inference_geo": "",
    }
    line: dict[str, object] = {
        "type": "assistant",
        "isSidechain": False,
        "sessionId": "7ef4b236",
        "cwd": "/home/dev/volcano",
        "timestamp": "2026-04-08T13:53:21.935Z",
        "requestId": "req_011CZ",
        "uuid": "d4319f4c",
        "message": {"id": "msg_01Af", "model": "claude-opus-4-6", "usage": usage},
    }
    line.update(overrides)
    return line


def test_assistant_record_keeps_every_field_later_features_need() -> None:
    stats = ParseStats()
    r = record_from(assistant(), CONTEXT, stats)
    assert r is not None
    assert r.dedup_key == "c:msg_01Af:req_011CZ"
    assert (r.session_id, r.project, r.model) == (
        "7ef4b236",
        "/home/dev/volcano",
        "claude-opus-4-6",
    )
    assert (r.input_tokens, r.output_tokens, r.cache_read_tokens) == (3, 138, 11327)
    assert (r.cache_write_5m_tokens, r.cache_write_1h_tokens) == (0, 10816)
    assert r.ts_ms == 1775656401935
    assert not r.is_sidechain
    assert stats.skipped == {}


def test_iterations_are_never_added() -> None:
    r = record_from(assistant(), CONTEXT, ParseStats())
    assert r is not None
    assert r.total_tokens == 3 + 138 + 10816 + 11327


def test_cache_writes_without_breakdown_count_as_five_minute() -> None:
    line = assistant()
    usage = line["message"]["usage"]  # type: ignore[index]
    del usage["cache_creation"]
    r = record_from(line, CONTEXT, ParseStats())
    assert r is not None
    assert (r.cache_write_5m_tokens, r.cache_write_1h_tokens) == (10816, 0)


def test_fast_speed_and_us_geo_are_kept() -> None:
    line = assistant()
    usage = line["message"]["usage"]  # type: ignore[index]
    usage.update(speed="fast", inference_geo="us")
    r = record_from(line, CONTEXT, ParseStats())
    assert r is not None
    assert (r.speed, r.inference_geo) == ("fast", "us")


def test_requestless_records_dedupe_within_their_session() -> None:
    line = assistant()
    del line["requestId"]
    r = record_from(line, CONTEXT, ParseStats())
    assert r is not None
    assert r.dedup_key == "c:s:7ef4b236:msg_01Af"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {"message": {"id": "x", "model": "<synthetic>", "usage": {"input_tokens": 0}}},
            SkipReason.SYNTHETIC,
        ),
        ({"isApiErrorMessage": True}, SkipReason.API_ERROR),
        ({"timestamp": "yesterday"}, SkipReason.NO_TIMESTAMP),
        (
            {"message": {"id": "x", "model": "m", "usage": {"input_tokens": "3"}}},
            SkipReason.BAD_USAGE,
        ),
        ({"message": {"id": "x", "usage": {"input_tokens": 3}}}, SkipReason.NO_MODEL),
    ],
)
def test_records_without_countable_usage_are_counted_as_skipped(
    overrides: dict[str, object], reason: str
) -> None:
    stats = ParseStats()
    assert record_from(assistant(**overrides), CONTEXT, stats) is None
    assert stats.skipped == {reason: 1}


def test_progress_records_embedding_a_subagent_message_count_as_sidechain() -> None:
    inner = assistant()
    progress = {
        "type": "progress",
        "sessionId": "parent-session",
        "cwd": "/home/dev/p",
        "timestamp": "2026-04-09T13:50:52.133Z",
        "data": {"type": "agent_progress", "agentId": "a7196", "message": inner},
    }
    r = record_from(progress, CONTEXT, ParseStats())
    assert r is not None
    assert r.is_sidechain
    assert (r.session_id, r.agent_id) == ("parent-session", "a7196")
    assert r.dedup_key == "c:msg_01Af:req_011CZ"


def test_other_record_types_yield_nothing_and_are_not_errors() -> None:
    stats = ParseStats()
    assert record_from({"type": "user", "toolUseResult": {"usage": {}}}, CONTEXT, stats) is None
    assert stats.skipped == {}


def test_subagent_file_context_reads_agent_type_from_meta(tmp_path: object) -> None:
    base = os.path.join(str(tmp_path), "projects", "-home-dev-p", "sess-1", "subagents")
    os.makedirs(base)
    with open(os.path.join(base, "agent-a95.meta.json"), "wb") as handle:
        handle.write(orjson.dumps({"agentType": "Explore", "description": "look"}))
    context = context_for(os.path.join(base, "agent-a95.jsonl"))
    assert context == FileContext("sess-1", "-home-dev-p", "a95", "Explore")
    aside = context_for(os.path.join(base, "agent-aside_question-fcbf.jsonl"))
    assert aside.agent_type == "aside_question"
    compact = context_for(os.path.join(base, "agent-acompact-77.jsonl"))
    assert compact.agent_type == "compact"


def test_main_file_context_uses_file_name_as_session() -> None:
    context = context_for(os.path.join("/x", "projects", "-home-dev-p", "abc-123.jsonl"))
    assert context == FileContext("abc-123", "-home-dev-p")


def test_prefilter_finds_usage_written_with_spaces_and_reordered_keys() -> None:
    spaced = b'{"message": {"usage": {"output_tokens": 5, "input_tokens": 1},'
    spaced += b' "model": "claude-opus-4-6", "id": "m1"}, "requestId": "r1",'
    spaced += b' "timestamp": "2026-01-01T00:00:00Z", "type": "assistant"}'
    chunk = spaced + b"\n" + orjson.dumps(assistant()) + b"\n"
    stats = ParseStats()
    records = parse_chunk(chunk, CONTEXT, stats)
    assert [r.dedup_key for r in records] == ["c:m1:r1", "c:msg_01Af:req_011CZ"]
    assert stats.lines == 2


def test_broken_lines_that_carry_no_usage_are_still_counted() -> None:
    stats = ParseStats()
    chunk = (
        b'{"type":"user"}\n{"type":"user","message":{"content":"cut of\n\n   \nnot json at all\n'
    )
    assert parse_chunk(chunk, CONTEXT, stats) == []
    assert stats.lines == 3
    assert stats.skipped == {SkipReason.INVALID_JSON: 2}


def user_line(content: object, **overrides: object) -> dict[str, object]:
    line: dict[str, object] = {
        "type": "user",
        "isSidechain": False,
        "sessionId": "7ef4b236",
        "timestamp": "2026-04-08T13:50:00.000Z",
        "message": {"role": "user", "content": content},
    }
    line.update(overrides)
    return line


TOOL_RESULT = [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "ok"}]


@pytest.mark.parametrize(
    ("line", "context", "human"),
    [
        (user_line("fix the flaky test"), CONTEXT, True),
        (user_line([{"type": "text", "text": "and this"}]), CONTEXT, True),
        (user_line([{"type": "image"}, {"type": "text", "text": "see"}]), CONTEXT, True),
        (user_line(TOOL_RESULT, toolUseResult={"stdout": ""}), CONTEXT, False),
        (user_line(TOOL_RESULT), CONTEXT, False),
        (user_line("caveat", isMeta=True), CONTEXT, False),
        (user_line("summary of the conversation", isCompactSummary=True), CONTEXT, False),
        (user_line("explore the repo", isSidechain=True), CONTEXT, False),
        (user_line("explore", isSidechain=False), FileContext("s", "p", "a1", "Explore"), False),
        (user_line(None), CONTEXT, False),
        (user_line("run the job", entrypoint="sdk-cli"), CONTEXT, False),
        (user_line("run the job", entrypoint="claude-desktop"), CONTEXT, True),
        (user_line("no time", timestamp="yesterday"), CONTEXT, False),
    ],
)
def test_human_prompts_are_told_from_tool_results_and_injected_text(
    line: dict[str, object], context: FileContext, human: bool
) -> None:
    prompts: list[PromptMark] = []
    records = parse_chunk(orjson.dumps(line) + b"\n", context, ParseStats(), prompts)
    assert records == []
    expected = [PromptMark("claude-code", "7ef4b236", 1775656200000)] if human else []
    assert prompts == expected


def test_a_truncated_tool_result_passed_over_unparsed_is_still_counted() -> None:
    line = orjson.dumps(user_line(TOOL_RESULT))[:-5]
    stats = ParseStats()
    prompts: list[PromptMark] = []
    assert parse_chunk(line + b"\n", CONTEXT, stats, prompts) == []
    assert prompts == []
    assert stats.skipped == {SkipReason.INVALID_JSON: 1}


def test_a_timestamp_before_1970_is_a_time_the_ingest_judges() -> None:
    stats = ParseStats()
    before = record_from(assistant(timestamp="1969-12-31T23:59:59Z"), CONTEXT, stats)
    assert before is not None
    assert before.ts_ms == -1000
    assert stats.skipped == {}
    assert record_from(assistant(timestamp="not a time"), CONTEXT, stats) is None
    assert stats.skipped == {SkipReason.NO_TIMESTAMP: 1}
