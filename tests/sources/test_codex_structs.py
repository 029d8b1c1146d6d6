"""Codex rollout lines decoded into typed structs are handled exactly as a full parse.

``RolloutParser.feed_chunk`` decodes a whole buffer into structs that declare only
the fields it reads; when that fails it goes line by line, and a line that does
not fit the structs is parsed in full (the reference). These tests run rollouts
all three ways (struct decoding switched off by monkeypatching) and require the
same records, rate limits, prompts, state and counters.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.decoding import three_ways, with_value
from tokenbuddy.core.records import ParseStats, SkipReason
from tokenbuddy.sources import codex
from tokenbuddy.sources.codex import RolloutParser, initial_state
from tokenbuddy.sources.tailer import ChunkReader

PATH = "/x/rollout-2026-04-08T22-02-46-019d6d67-1952-7e83-93ef-94497e3c15b6.jsonl"


def session_meta() -> dict[str, Any]:
    return {
        "timestamp": "2026-04-08T20:02:46.000Z",
        "type": "session_meta",
        "payload": {
            "id": "019d6d67-aaaa",
            "cwd": "/home/dev/app",
            "originator": "codex_exec",
            "instructions": "x" * 300,
        },
    }


def turn_context() -> dict[str, Any]:
    return {
        "timestamp": "2026-04-08T20:02:47.000Z",
        "type": "turn_context",
        "payload": {
            "cwd": "/home/dev/app",
            "model": "gpt-5.4",
            "collaboration_mode": {"mode": "default", "settings": {"model": "gpt-5.3-codex"}},
            "user_instructions": "y" * 300,
        },
    }


def user_message() -> dict[str, Any]:
    return {
        "timestamp": "2026-04-08T20:02:48.000Z",
        "type": "event_msg",
        "payload": {"type": "user_message", "message": "fix the build", "images": []},
    }


def token_count(total: int = 1000) -> dict[str, Any]:
    usage = {
        "input_tokens": total,
        "cached_input_tokens": total // 2,
        "output_tokens": 50,
        "reasoning_output_tokens": 10,
        "total_tokens": total + 50,
    }
    window = {"used_percent": 12.5, "window_minutes": 300, "resets_at": 1775700000}
    return {
        "timestamp": "2026-04-08T20:03:00.000Z",
        "type": "event_msg",
        "payload": {
            "type": "token_count",
            "info": {"total_token_usage": usage, "last_token_usage": usage},
            "rate_limits": {
                "primary": window,
                "secondary": {**window, "window_minutes": 10080, "resets_in_seconds": 999},
                "plan_type": "plus",
            },
        },
    }


def other_lines() -> list[dict[str, Any]]:
    return [
        {
            "timestamp": "2026-04-08T20:02:49.000Z",
            "type": "response_item",
            "payload": {"type": "function_call_output", "call_id": "c1", "output": "z" * 500},
        },
        {
            "timestamp": "2026-04-08T20:02:50.000Z",
            "type": "event_msg",
            "payload": {"type": "agent_message", "message": "done"},
        },
    ]


ODD: list[Any] = [None, "", "text", 0, -1, 1.0, 12.5, True, 2**63, [], {}, {"nested": 1}]

PATHS: dict[str, list[tuple[str, ...]]] = {
    "session_meta": [
        ("payload",),
        ("payload", "id"),
        ("payload", "cwd"),
        ("payload", "originator"),
        ("timestamp",),
    ],
    "turn_context": [
        ("payload", "model"),
        ("payload", "cwd"),
        ("payload", "collaboration_mode"),
        ("payload", "collaboration_mode", "settings"),
        ("payload", "collaboration_mode", "settings", "model"),
    ],
    "user_message": [("timestamp",), ("payload", "type"), ("type",)],
    "token_count": [
        ("timestamp",),
        ("payload", "info"),
        ("payload", "info", "total_token_usage"),
        ("payload", "info", "total_token_usage", "input_tokens"),
        ("payload", "info", "total_token_usage", "cached_input_tokens"),
        ("payload", "info", "total_token_usage", "total_tokens"),
        ("payload", "rate_limits"),
        ("payload", "rate_limits", "primary"),
        ("payload", "rate_limits", "primary", "used_percent"),
        ("payload", "rate_limits", "primary", "window_minutes"),
        ("payload", "rate_limits", "primary", "resets_at"),
        ("payload", "rate_limits", "secondary", "resets_in_seconds"),
        ("payload", "rate_limits", "plan_type"),
    ],
}
BASES = {
    "session_meta": session_meta,
    "turn_context": turn_context,
    "user_message": user_message,
    "token_count": token_count,
}


def _three_ways(monkeypatch: pytest.MonkeyPatch, chunks: list[bytes]) -> tuple[Any, Any, Any]:
    """(read whole, read line by line, full parse of every line) for a rollout's buffers."""

    def run() -> Any:
        stats = ParseStats()
        parser = RolloutParser(initial_state(PATH), stats)
        for chunk in chunks:
            parser.feed_chunk(chunk)
        return (
            parser.records,
            parser.rate_limits,
            parser.prompts,
            parser.state,
            stats.lines,
            stats.records,
            dict(stats.skipped),
            dict(stats.notes),
        )

    return three_ways(monkeypatch, codex, run)


def _rollout(*lines: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


def _variants() -> list[bytes]:
    """Rollouts with one field of one line set to an odd value, or removed."""
    rollouts = []
    for kind, paths in PATHS.items():
        for path, value in itertools.product(paths, ODD):
            odd = with_value(BASES[kind](), path, value)
            rollouts.append(
                _rollout(session_meta(), turn_context(), token_count(500), odd, token_count(2000))
            )
    return rollouts


def test_every_field_variant_is_handled_as_a_full_parse_handles_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rollouts = _variants()
    assert len(rollouts) > 250
    for rollout in rollouts:
        whole, by_line, reference = _three_ways(monkeypatch, [rollout])
        assert whole == by_line == reference, rollout


def test_an_ordinary_rollout_is_read_by_the_structs(monkeypatch: pytest.MonkeyPatch) -> None:
    rollout = _rollout(
        session_meta(), turn_context(), user_message(), *other_lines(), token_count(), token_count()
    )
    whole, by_line, reference = _three_ways(monkeypatch, [rollout])
    assert whole == by_line == reference
    records, limits, prompts, state = whole[:4]
    assert [(r.model, r.input_tokens, r.cache_read_tokens, r.entrypoint) for r in records] == [
        ("gpt-5.4", 500, 500, "codex_exec")
    ]
    assert [(s.window_minutes, s.used_percent) for s in limits] == [(300, 12.5), (10080, 12.5)] * 2
    assert len(prompts) == 1 and state["session_id"] == "019d6d67-aaaa"
    assert whole[4] == 7  # lines


def test_malformed_lines_are_counted_wherever_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    good = _rollout(session_meta(), turn_context(), token_count())
    chunk = good + b'{"type":"response_item","payload":{"output":"cut off\n' + b"[1, 2]\n"
    whole, by_line, reference = _three_ways(monkeypatch, [chunk])
    assert whole == by_line == reference
    assert whole[6] == {SkipReason.INVALID_JSON: 1, SkipReason.NOT_AN_OBJECT: 1}
    assert len(whole[0]) == 1


def test_deep_nesting_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    for depth in (990, 1010, 5000):
        nested = {"type": "response_item", "payload": {"output": "x"}}
        raw = orjson.dumps(nested).replace(b'"x"', b"[" * depth + b"]" * depth)
        chunk = _rollout(session_meta(), turn_context()) + raw + b"\n" + _rollout(token_count())
        whole, by_line, reference = _three_ways(monkeypatch, [chunk])
        assert whole == by_line == reference, depth
        assert len(whole[0]) == 1


def test_random_mixes_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    pool = [orjson.dumps(line) for line in other_lines()]
    for kind, paths in PATHS.items():
        for path in paths:
            pool.append(orjson.dumps(with_value(BASES[kind](), path, rng.choice(ODD))))
    pool += [orjson.dumps(token_count(total)) for total in (100, 300, 200, 900)]
    for _ in range(40):
        lines = rng.sample(pool, 12)
        cut = rng.randrange(len(lines))
        chunks = [b"\n".join(lines[:cut]) + b"\n", b"\n".join(lines[cut:]) + b"\n"]
        whole, by_line, reference = _three_ways(monkeypatch, chunks)
        assert whole == by_line == reference


def test_the_fixture_rollouts_read_alike(
    monkeypatch: pytest.MonkeyPatch, shared_fixtures: Path
) -> None:
    paths = sorted((shared_fixtures / "codex").rglob("rollout-*.jsonl"))
    assert paths
    for path in paths:
        chunks = list(ChunkReader(str(path), 0))
        whole, by_line, reference = _three_ways(monkeypatch, chunks)
        assert whole == by_line == reference, path


def test_rate_limits_out_of_range_are_left_out_not_fatal(tmp_path: Path) -> None:
    """A window or reset time no SQLite integer can hold used to abort every later sync."""
    from tokenbuddy.services.ingest import sync
    from tokenbuddy.sources.discovery import LogRoot
    from tokenbuddy.store.ledger import Ledger

    odd = [
        with_value(token_count(), ("payload", "rate_limits", "primary", "window_minutes"), 2**63),
        with_value(token_count(), ("payload", "rate_limits", "primary", "resets_at"), 1e300),
        with_value(token_count(), ("payload", "rate_limits", "secondary", "used_percent"), 1e400),
    ]
    sessions = tmp_path / "codex" / "sessions" / "2026" / "04" / "08"
    sessions.mkdir(parents=True)
    rollout = sessions / PATH.rsplit("/", 1)[1]
    lines = [session_meta(), turn_context(), token_count(500), *odd, token_count(900)]
    rollout.write_bytes(
        _rollout(*lines).replace(b"1e+300", b"1e300").replace(b"Infinity", b"1e400")
    )
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        summary = sync(ledger, [LogRoot("codex", tmp_path / "codex" / "sessions", "test")])
        requests = ledger.db.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
        limits = ledger.db.execute(
            "SELECT window_minutes, resets_at_ms FROM rate_limits ORDER BY ts_ms"
        ).fetchall()
    assert summary.errors == [] and requests == 3
    assert all(0 < minutes < 2**31 for minutes, _ in limits)
    assert all(resets is None or resets < 2**62 for _, resets in limits)
