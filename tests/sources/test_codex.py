"""Codex rollouts: cumulative deltas, resets, models and rate limits, line by line."""

from __future__ import annotations

from typing import Any

from tokenbuddy.core.records import CODEX_MODEL_ASSUMED, ParseStats, PromptMark
from tokenbuddy.sources.codex import RolloutParser, initial_state, usage_delta


def token_count(
    ts: str, totals: list[int] | None, limits: dict[str, Any] | None = None
) -> dict[str, Any]:
    info = None
    if totals is not None:
        names = [
            "input_tokens",
            "cached_input_tokens",
            "output_tokens",
            "reasoning_output_tokens",
            "total_tokens",
        ]
        usage = dict(zip(names, totals, strict=True))
        info = {"total_token_usage": usage, "last_token_usage": usage}
    return {
        "timestamp": ts,
        "type": "event_msg",
        "payload": {"type": "token_count", "info": info, "rate_limits": limits},
    }


def parser() -> RolloutParser:
    return RolloutParser(
        initial_state("/x/rollout-2026-04-08T22-02-46-019d6d67-1952-7e83-93ef-94497e3c15b6.jsonl"),
        ParseStats(),
    )


def test_delta_and_reset() -> None:
    assert usage_delta([10, 2, 5, 1, 15], [30, 12, 9, 1, 39]) == [20, 10, 4, 0, 24]
    assert usage_delta([30, 12, 9, 1, 39], [5, 0, 2, 0, 7]) == [5, 0, 2, 0, 7]


def test_re_emitted_totals_count_once_and_cached_input_is_split_out() -> None:
    p = parser()
    meta = {"id": "sess-1", "cwd": "/home/dev/app", "originator": "codex_exec"}
    p.feed({"type": "session_meta", "payload": meta})
    p.feed({"type": "turn_context", "payload": {"model": "gpt-5.4", "cwd": "/home/dev/app"}})
    p.feed(
        token_count(
            "2026-04-08T14:00:00Z",
            None,
            {"primary": {"used_percent": 6.0, "window_minutes": 300, "resets_at": 1775674998}},
        )
    )
    p.feed(token_count("2026-04-08T14:00:01Z", [1000, 400, 50, 10, 1050]))
    p.feed(token_count("2026-04-08T14:00:02Z", [1000, 400, 50, 10, 1050]))
    p.feed({"type": "turn_context", "payload": {"model": "gpt-5.1-codex-mini"}})
    p.feed(token_count("2026-04-08T14:00:03Z", [1500, 900, 80, 10, 1580]))
    assert [(r.model, r.input_tokens, r.cache_read_tokens, r.output_tokens) for r in p.records] == [
        ("gpt-5.4", 600, 400, 50),
        ("gpt-5.1-codex-mini", 0, 500, 30),
    ]
    assert {r.session_id for r in p.records} == {"sess-1"}
    assert {r.project for r in p.records} == {"/home/dev/app"}
    assert {r.entrypoint for r in p.records} == {"codex_exec"}
    assert [(s.window_minutes, s.used_percent, s.resets_at_ms) for s in p.rate_limits] == [
        (300, 6.0, 1775674998000),
    ]


def test_usage_before_any_turn_context_is_priced_as_gpt_5_and_noted() -> None:
    p = parser()
    p.feed(token_count("2025-09-08T10:00:00Z", [100, 0, 10, 0, 110]))
    assert p.records[0].model == "gpt-5"
    assert p.stats.notes == {CODEX_MODEL_ASSUMED: 1}
    assert p.records[0].session_id == "019d6d67-1952-7e83-93ef-94497e3c15b6"
    assert p.records[0].entrypoint == ""  # no session_meta: the originator is unknown


def test_keys_are_content_derived_so_a_forked_replay_collides() -> None:
    first, fork = parser(), parser()
    for p in (first, fork):
        p.feed(token_count("2026-04-08T14:00:01Z", [1000, 400, 50, 10, 1050]))
    assert first.records[0].dedup_key == fork.records[0].dedup_key


def test_malformed_totals_are_counted() -> None:
    p = parser()
    p.feed(
        {
            "timestamp": "2026-04-08T14:00:01Z",
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {"total_token_usage": {"input_tokens": "many"}},
            },
        }
    )
    assert p.records == [] and sum(p.stats.skipped.values()) == 1


def test_user_messages_are_human_prompts_of_the_session() -> None:
    p = parser()
    p.feed({"type": "session_meta", "payload": {"id": "sess-1", "cwd": "/home/dev/app"}})
    p.feed(
        {
            "timestamp": "2026-04-08T14:00:00Z",
            "type": "event_msg",
            "payload": {"type": "user_message", "message": "run the tests"},
        }
    )
    p.feed({"timestamp": "nope", "type": "event_msg", "payload": {"type": "user_message"}})
    p.feed({"timestamp": "2026-04-08T14:01:00Z", "type": "event_msg", "payload": {"type": "x"}})
    assert p.prompts == [PromptMark("codex", "sess-1", 1775656800000)]
