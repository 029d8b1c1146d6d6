"""A generated demo history, so a newcomer can see the dashboard before their own logs exist.

Writes Claude Code transcripts (main sessions, subagent files with their
meta.json, streamed partial lines, a CI job's ``claude -p`` runs) and a Codex
rollout, in the formats the real agents write, spread over the last 30 days up to
``now`` with a session active right now. Everything is made here from a seeded
random generator: the same seed and ``now`` give the same files, byte for byte.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from pathlib import Path

    from tokenbuddy.sources.discovery import LogRoot

PROJECTS = ("web-shop", "payments-api", "infra", "data-pipeline", "docs-site")
CLAUDE_MODELS = (
    ("claude-sonnet-4-5-20250929", 0.55),
    ("claude-opus-4-6", 0.25),
    ("claude-haiku-4-5-20251001", 0.20),
)


@dataclass(frozen=True, slots=True)
class DemoHistory:
    """Where the demo logs were written."""

    claude_dir: Path
    codex_home: Path

    def log_roots(self, home: Path) -> list[LogRoot]:
        """The demo's logs as the dashboard's log roots (nothing else of ``home`` is read)."""
        from tokenbuddy.sources.discovery import log_roots

        environ = {"CLAUDE_CONFIG_DIR": str(self.claude_dir), "CODEX_HOME": str(self.codex_home)}
        return log_roots(environ, home)


RECENT_HOURS_AGO = (20, 16, 9, 6, 3.5, 2)
"""Sessions started in the last day, so the hourly chart and the table have something to show."""
CI_RUNS_HOURS_AGO = (19.5, 17, 15.2, 8.4, 7.9, 5.5, 4.1, 1.3, 0.4)
"""When a CI job reviewed a pull request with ``claude -p`` in the last day (a loop)."""


def write_demo_history(root: Path, now: datetime, seed: int = 7) -> DemoHistory:
    """Write the demo logs under ``root`` (``root/claude`` and ``root/codex``)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible on purpose
    claude_dir = root / "claude"
    codex_home = root / "codex"
    starts = sorted(now - timedelta(hours=rng.uniform(24, 30 * 24)) for _ in range(30))
    starts += [now - timedelta(hours=hours) for hours in RECENT_HOURS_AGO]
    for index, start in enumerate(starts):
        _claude_session(claude_dir, rng, index, start, now)
    # Running right now: one healthy session, and one whose harness broke prompt caching.
    _claude_session(claude_dir, rng, len(starts), now - timedelta(minutes=40), now)
    broken = now - timedelta(minutes=12)
    _claude_session(claude_dir, rng, len(starts) + 1, broken, now, broken_cache_from=broken)
    _codex_session(codex_home, rng, now - timedelta(hours=5))
    for hours in CI_RUNS_HOURS_AGO:
        _scripted_run(claude_dir, rng, now - timedelta(hours=hours))
    return DemoHistory(claude_dir, codex_home)


def _uuid(rng: random.Random) -> str:
    hexed = f"{rng.getrandbits(128):032x}"
    return f"{hexed[:8]}-{hexed[8:12]}-4{hexed[13:16]}-a{hexed[17:20]}-{hexed[20:]}"


def _ts(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _pick_model(rng: random.Random) -> str:
    roll = rng.random()
    for model, weight in CLAUDE_MODELS:
        roll -= weight
        if roll <= 0:
            return model
    return CLAUDE_MODELS[0][0]


@dataclass(frozen=True, slots=True)
class _Writer:
    """Who writes a response: the session, its directory and model, main or subagent."""

    session_id: str
    cwd: str
    model: str
    sidechain: bool = False
    entrypoint: str = "cli"
    """``cli`` for a person at the terminal, ``sdk-cli`` for ``claude -p``."""


def _claude_session(
    root: Path,
    rng: random.Random,
    index: int,
    start: datetime,
    now: datetime,
    *,
    broken_cache_from: datetime | None = None,
) -> None:
    project = PROJECTS[index % len(PROJECTS)]
    cwd = f"/home/dev/src/{project}"
    model = CLAUDE_MODELS[1][0] if broken_cache_from else _pick_model(rng)
    main = _Writer(_uuid(rng), cwd, model)
    helper = _Writer(main.session_id, cwd, CLAUDE_MODELS[2][0], sidechain=True)
    directory = root / "projects" / cwd.replace("/", "-")
    directory.mkdir(parents=True, exist_ok=True)
    requests = rng.randint(15, 90)
    moment = start
    context = rng.randint(12_000, 30_000)
    lines: list[bytes] = []
    subagent_lines: list[bytes] = []
    for number in range(requests):
        moment += timedelta(seconds=rng.uniform(4, 60))
        if moment > now:
            break
        if number % 6 == 0:
            lines.append(_prompt(main, moment - timedelta(seconds=3)))
        context += rng.randint(300, 4000)
        broken = broken_cache_from is not None and moment >= broken_cache_from
        lines += _response(rng, main, moment, context, broken_cache=broken)
        if number % 17 == 5:
            subagent_lines += _response(rng, helper, moment, rng.randint(8000, 20_000))
    (directory / f"{main.session_id}.jsonl").write_bytes(b"".join(lines))
    if subagent_lines:
        agent = f"a{rng.getrandbits(64):016x}"
        subagents = directory / main.session_id / "subagents"
        subagents.mkdir(parents=True, exist_ok=True)
        (subagents / f"agent-{agent}.jsonl").write_bytes(b"".join(subagent_lines))
        meta = {"agentType": "Explore", "description": "demo exploration"}
        (subagents / f"agent-{agent}.meta.json").write_bytes(orjson.dumps(meta))


def _scripted_run(root: Path, rng: random.Random, start: datetime) -> None:
    """One ``claude -p`` run of a CI job: a fresh session reviewing a diff in a few calls."""
    cwd = "/home/dev/src/payments-api"
    run = _Writer(_uuid(rng), cwd, CLAUDE_MODELS[0][0], entrypoint="sdk-cli")
    lines = [_prompt(run, start)]
    moment, context = start, rng.randint(14_000, 22_000)
    for _ in range(rng.randint(3, 6)):
        moment += timedelta(seconds=rng.uniform(6, 25))
        context += rng.randint(500, 3000)
        lines += _response(rng, run, moment, context)
    directory = root / "projects" / cwd.replace("/", "-")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{run.session_id}.jsonl").write_bytes(b"".join(lines))


def _prompt(writer: _Writer, moment: datetime) -> bytes:
    """A prompt, as Claude Code records it (the text is a placeholder): a person's, or
    a script's when the writer's entrypoint is ``sdk-cli``."""
    stamp = int(moment.timestamp() * 1000)
    record = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "entrypoint": writer.entrypoint,
        "cwd": writer.cwd,
        "sessionId": writer.session_id,
        "version": "2.1.90",
        "gitBranch": "main",
        "type": "user",
        "message": {"role": "user", "content": "(demo prompt)"},
        "uuid": f"prompt-{writer.session_id[:8]}-{stamp}",
        "timestamp": _ts(moment),
    }
    return orjson.dumps(record) + b"\n"


def _response(
    rng: random.Random,
    writer: _Writer,
    moment: datetime,
    context: int,
    *,
    broken_cache: bool = False,
) -> list[bytes]:
    """One API response as Claude Code writes it: a partial line, then the final one."""
    ids = (f"msg_01{rng.getrandbits(96):024x}", f"req_011C{rng.getrandbits(96):024x}")
    fresh = rng.randint(200, 3000)
    writes, reads = (context, 0) if broken_cache else (fresh, context - fresh)
    one_hour = writes if rng.random() < 0.3 else 0
    usage = {
        "input_tokens": rng.randint(1, 12),
        "cache_creation_input_tokens": writes,
        "cache_read_input_tokens": max(reads, 0),
        "cache_creation": {
            "ephemeral_5m_input_tokens": writes - one_hour,
            "ephemeral_1h_input_tokens": one_hour,
        },
        "output_tokens": rng.randint(40, 1800),
        "service_tier": "standard",
    }
    partial = {**usage, "output_tokens": rng.randint(1, 30)}
    return [
        _line(writer, moment - timedelta(seconds=1), ids, partial),
        _line(writer, moment, ids, usage),
    ]


def _line(writer: _Writer, moment: datetime, ids: tuple[str, str], usage: dict[str, Any]) -> bytes:
    message_id, request_id = ids
    record = {
        "parentUuid": None,
        "isSidechain": writer.sidechain,
        "userType": "external",
        "entrypoint": writer.entrypoint,
        "cwd": writer.cwd,
        "sessionId": writer.session_id,
        "version": "2.1.90",
        "gitBranch": "main",
        "message": {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": writer.model,
            "content": [{"type": "text", "text": "(demo)"}],
            "stop_reason": "end_turn",
            "usage": usage,
        },
        "requestId": request_id,
        "type": "assistant",
        "uuid": f"{message_id[-12:]}-{int(moment.timestamp() * 1000)}",
        "timestamp": _ts(moment),
    }
    return orjson.dumps(record) + b"\n"


def _codex_session(codex_home: Path, rng: random.Random, start: datetime) -> None:
    session_id = _uuid(rng)
    day = start.astimezone(UTC)
    directory = codex_home / "sessions" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
    directory.mkdir(parents=True, exist_ok=True)
    name = f"rollout-{day:%Y-%m-%dT%H-%M-%S}-{session_id}.jsonl"
    events = [
        {
            "timestamp": _ts(start),
            "type": "session_meta",
            "payload": {
                "id": session_id,
                "cwd": "/home/dev/src/cli-tool",
                "cli_version": "0.118.0",
            },
        },
        {
            "timestamp": _ts(start),
            "type": "turn_context",
            "payload": {"model": "gpt-5.4", "cwd": "/home/dev/src/cli-tool"},
        },
    ]
    totals = [0, 0, 0, 0, 0]
    moment = start
    for _ in range(25):
        moment += timedelta(seconds=rng.uniform(10, 90))
        fresh, cached, out = rng.randint(500, 4000), rng.randint(5000, 40_000), rng.randint(50, 900)
        totals = [totals[0] + fresh + cached, totals[1] + cached, totals[2] + out, totals[3], 0]
        totals[4] = totals[0] + totals[2]
        usage = dict(
            zip(
                (
                    "input_tokens",
                    "cached_input_tokens",
                    "output_tokens",
                    "reasoning_output_tokens",
                    "total_tokens",
                ),
                totals,
                strict=True,
            )
        )
        events.append(
            {
                "timestamp": _ts(moment),
                "type": "event_msg",
                "payload": {
                    "type": "token_count",
                    "info": {"total_token_usage": usage},
                    "rate_limits": {
                        "primary": {
                            "used_percent": 23.0,
                            "window_minutes": 300,
                            "resets_at": int(moment.timestamp()) + 7200,
                        }
                    },
                },
            }
        )
    (directory / name).write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
