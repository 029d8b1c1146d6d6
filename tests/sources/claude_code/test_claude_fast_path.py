"""Claude Code lines decoded into typed structs are judged exactly as a full parse judges them.

``parse_chunk`` decodes a whole buffer into structs that declare only the fields
records and prompts need; when that fails it goes line by line, and a line that
does not fit the structs goes through ``load_line`` and the dict-based functions
(the reference). These tests run every line all three ways (the struct decoding
switched off by monkeypatching) and require identical records, prompts, counters
and notes, but for the documented differences of not reading skipped text.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import orjson
import pytest

from tests.decoding import three_ways, with_value, without
from tokenbuddy.core.records import INVALID_UTF8_REPAIRED, ParseStats, PromptMark, SkipReason
from tokenbuddy.sources.claude_code import FileContext, parse_chunk, structs, transcript

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
        "entrypoint": "sdk-ts",
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
        "entrypoint": "sdk-cli",
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
    ("entrypoint",),
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

    return three_ways(monkeypatch, transcript, run)


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
        lines.append(orjson.dumps(with_value(base, path, value)))
    lines += [orjson.dumps(without(base, path)) for path in USER_PATHS]
    return lines


ENVELOPE_PATHS: list[tuple[str, ...]] = [("entrypoint",), ("sessionId",), ("cwd",)]
"""Fields a progress line's record takes from the line around it, not from its own."""


def _variants() -> list[bytes]:
    lines: list[bytes] = []
    for base in (assistant(), progress()):
        lines.append(orjson.dumps(base))
        for path, value in itertools.product(PATHS, ODD_VALUES):
            full_path = path if base["type"] == "assistant" else ("data", "message", *path)
            lines.append(orjson.dumps(with_value(base, full_path, value)))
        for path in PATHS:
            full_path = path if base["type"] == "assistant" else ("data", "message", *path)
            lines.append(orjson.dumps(without(base, full_path)))
    envelope = progress()
    for path, value in itertools.product(ENVELOPE_PATHS, ODD_VALUES):
        lines.append(orjson.dumps(with_value(envelope, path, value)))
    lines += [orjson.dumps(without(envelope, path)) for path in ENVELOPE_PATHS]
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


def test_what_is_not_read_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Invalid UTF-8 or an out-of-range number in skipped text: the record still counts.

    A full parse repairs the first (noting it) and rejects the second (the record is
    lost); in text that is read (a prompt's), both are judged as a full parse does.
    """
    base = orjson.dumps(assistant())
    bad_utf8 = base.replace(b"a reply", b"a \xff reply") + b"\n"
    whole, by_line, reference = _three_ways(monkeypatch, bad_utf8, CONTEXT)
    assert whole == by_line
    assert reference[-1] == {INVALID_UTF8_REPAIRED: 1} and whole[-1] == {}
    assert whole[:-1] == reference[:-1]

    huge = base.replace(b'"content":[', b'"content":[1e400,') + b"\n"
    whole, by_line, reference = _three_ways(monkeypatch, huge, CONTEXT)
    assert whole == by_line and len(whole[0]) == 1
    assert reference[0] == [] and reference[4] == {SkipReason.INVALID_JSON: 1}

    prompt = orjson.dumps(user_prompt())
    assert prompt.count(b"}]") == 1
    read_text = (prompt.replace(b"fix the", b"fix \xe9 the"), prompt.replace(b"}]", b"},1e400]"))
    for line in read_text:
        whole, by_line, reference = _three_ways(monkeypatch, line + b"\n", CONTEXT)
        assert whole == by_line == reference, line


def test_text_where_records_usually_nest_does_not_force_a_slow_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hook progress with a text message, a record whose message is text: read whole."""
    lines = [
        {"type": "progress", "data": {"type": "hook_progress", "message": "Running hook"}},
        {"type": "system", "message": "compacted"},
        {"type": "assistant", "message": "text", "timestamp": "2026-04-08T13:53:21Z"},
        progress(),
    ]
    chunk = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    transcript._decode_lines(chunk)  # no fallback needed
    whole, by_line, reference = _three_ways(monkeypatch, chunk, CONTEXT)
    assert whole == by_line == reference
    assert len(whole[0]) == 1 and whole[4] == {}


def test_deep_nesting_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    for depth in (990, 1010, 1100, 5000):
        nested = b"[" * depth + b"]" * depth
        line = orjson.dumps(assistant()).replace(b'"parentUuid":"p"', b'"parentUuid":' + nested)
        whole, by_line, reference = _three_ways(monkeypatch, line + b"\n", CONTEXT)
        assert whole == by_line == reference, depth


def test_prompts_do_not_depend_on_the_other_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """A prompt is found whether or not a malformed line shares its buffer."""
    exact = with_value(user_prompt(), ("message", "content"), "tool_use_id")
    late = {"padding": "x" * 4000, **user_prompt()}
    for prompt in (exact, late, user_prompt()):
        alone = orjson.dumps(prompt) + b"\n"
        with_bad = alone + b'{"type":"system",\n'
        for chunk in (alone, with_bad):
            whole, by_line, reference = _three_ways(monkeypatch, chunk, CONTEXT)
            assert whole == by_line == reference
            assert len(whole[1]) == 1, chunk


def test_unknown_record_types_count_however_they_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Counted when they carry usage where assistant records do; other new types (every
    release brings some) are skipped quietly."""
    lines = [
        {"type": "weird", "message": {"usage": None}},
        {"type": "weird", "usage": {}},
        {"type": "weird", "data": {"usage": {"input_tokens": 1}}},
        {"name": "usage"},
        {"type": "weird"},
        {"type": "weird", "message": {"usage": []}},
        {"type": "assistant-v2", "message": {"usage": {"input_tokens": 1}}},
        {"message": {"usage": {}}},
    ]
    chunk = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    whole, by_line, reference = _three_ways(monkeypatch, chunk, CONTEXT)
    assert whole == by_line == reference
    assert whole[4] == {SkipReason.UNKNOWN_TYPE: 2}


def test_two_records_on_one_line_both_count_when_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = with_value(assistant(), ("requestId",), "req_first")
    glued = orjson.dumps(first) + orjson.dumps(assistant()) + b"\n"
    whole, by_line, reference = _three_ways(monkeypatch, glued, CONTEXT)
    assert [r.dedup_key for r in whole[0]] == ["c:msg_01Af:req_first", "c:msg_01Af:req_011CZ"]
    assert whole[2] == 2  # two lines
    assert by_line == reference
    assert [r.dedup_key for r in reference[0]] == ["c:msg_01Af:req_011CZ"]
    assert reference[4] == {SkipReason.TRUNCATED: 1}


def test_random_usage_lines_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    lines = _variants() + _user_variants()
    for _ in range(40):
        chunk = b"\n".join(rng.sample(lines, 30)) + b"\n"
        fast, full = _both_ways(monkeypatch, chunk, rng.choice([CONTEXT, SUBAGENT]))
        assert fast == full


def test_the_structs_read_the_common_line_themselves() -> None:
    """The ordinary line is settled without a full parse (else there is no gain)."""
    value = transcript._decode_line(orjson.dumps(assistant()))
    record = structs.record_from_value(value, CONTEXT, ParseStats())
    assert record is not None
    assert (record.dedup_key, record.cache_write_5m_tokens, record.cache_write_1h_tokens) == (
        "c:msg_01Af:req_011CZ",
        816,
        10000,
    )
    assert (record.web_search_requests, record.speed, record.inference_geo) == (2, "fast", "us")
    assert record.entrypoint == "sdk-ts"


def test_the_entrypoint_is_the_lines_own_or_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    """A subagent's reply embedded in a progress line takes the line's entrypoint, as it
    takes its session and project; a line without one (Claude Code before 1.0.x) or with
    another type than text gives an empty one, however the line is read."""
    lines = [
        progress(),
        without(assistant(), ("entrypoint",)),
        with_value(assistant(), ("entrypoint",), 7),
    ]
    chunk = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    whole, by_line, reference = _three_ways(monkeypatch, chunk, CONTEXT)
    assert whole == by_line == reference
    assert [record.entrypoint for record in whole[0]] == ["sdk-cli", "", ""]


def test_counts_beyond_sqlite_integers_are_bad_usage() -> None:
    line = with_value(assistant(), ("message", "usage", "output_tokens"), 2**63)
    stats = ParseStats()
    assert parse_chunk(orjson.dumps(line) + b"\n", CONTEXT, stats) == []
    assert stats.skipped == {SkipReason.BAD_USAGE: 1}
