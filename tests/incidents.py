"""Generated incident traces in Claude Code's real transcript format.

Each builder writes one or more sessions into a Claude config dir (``projects/<slug>/<id>.jsonl``)
the way Claude Code 2.1.x writes them: a human prompt as a ``user`` record with string
content, each API response as a partial line then the final line with the same
``message.id``/``requestId``, and tool results as ``user`` records carrying ``tool_use_id``.
Usage numbers follow real sessions: a healthy session re-reads its growing context from
cache and writes only the new turn; a broken harness rewrites the whole context each call.

Every builder returns the moment its incident starts, so tests can measure detection latency.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from pathlib import Path

OPUS = "claude-opus-4-6"
OPUS_41 = "claude-opus-4-1-20250805"
"""Opus at $15/$75 per MTok: a broken cache on it burns about $240/h."""
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"


def _ts(moment: datetime) -> str:
    stamp = moment.astimezone(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass
class Session:
    """One transcript being written: a session id, its project and its lines."""

    root: Path
    project: str
    rng: random.Random
    model: str = SONNET
    context: int = 18_000
    session_id: str = ""
    entrypoint: str = "cli"
    """``sdk-cli`` for ``claude -p``, ``sdk-ts``/``sdk-py`` for the Agent SDKs."""
    lines: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.session_id:
            self.session_id = str(_uuid(self.rng))

    @property
    def cwd(self) -> str:
        return f"/home/dev/src/{self.project}"

    def _envelope(self, kind: str, moment: datetime, **fields: Any) -> bytes:
        record = {
            "parentUuid": None,
            "isSidechain": False,
            "userType": "external",
            "entrypoint": self.entrypoint,
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": "2.1.101",
            "gitBranch": "main",
            "type": kind,
            "uuid": str(_uuid(self.rng)),
            "timestamp": _ts(moment),
            **fields,
        }
        return orjson.dumps(record) + b"\n"

    def prompt(self, moment: datetime) -> None:
        """A human prompt (placeholder text, as in the anonymised fixtures)."""
        message = {"role": "user", "content": "x" * self.rng.randint(20, 400)}
        self.lines.append(self._envelope("user", moment, message=message, promptId="p"))

    def tool_result(self, moment: datetime) -> None:
        """A tool result: a ``user`` record that is not a human prompt."""
        tool_id = f"toolu_01{self.rng.getrandbits(64):016x}"
        content = [{"type": "tool_result", "tool_use_id": tool_id, "content": "ok " * 200}]
        self.lines.append(
            self._envelope(
                "user",
                moment,
                message={"role": "user", "content": content},
                toolUseResult={"stdout": "ok", "stderr": ""},
            )
        )

    def response(
        self, moment: datetime, *, broken: bool = False, grow: int | None = None, **usage: Any
    ) -> None:
        """One API response: partial line, then final line. Healthy unless ``broken``."""
        fresh = grow if grow is not None else self.rng.randint(400, 3500)
        if broken:
            writes, reads = self.context + fresh, 0
        else:
            writes, reads = fresh, self.context
        self.context += fresh
        body = {
            "input_tokens": self.rng.randint(1, 12),
            "cache_creation_input_tokens": writes,
            "cache_read_input_tokens": reads,
            "cache_creation": {"ephemeral_5m_input_tokens": writes, "ephemeral_1h_input_tokens": 0},
            "output_tokens": self.rng.randint(80, 1500),
            "service_tier": "standard",
            **usage,
        }
        ids = (f"msg_01{self.rng.getrandbits(96):024x}", f"req_011C{self.rng.getrandbits(80):020x}")
        for when, out in ((moment - timedelta(seconds=2), 4), (moment, body["output_tokens"])):
            message = {
                "id": ids[0],
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": [{"type": "text", "text": "x" * 40}],
                "stop_reason": "end_turn" if when == moment else None,
                "usage": {**body, "output_tokens": out},
            }
            self.lines.append(self._envelope("assistant", when, message=message, requestId=ids[1]))

    def write(self) -> Path:
        directory = self.root / "projects" / self.cwd.replace("/", "-")
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.session_id}.jsonl"
        path.write_bytes(b"".join(self.lines))
        return path


def _uuid(rng: random.Random) -> str:
    hexed = f"{rng.getrandbits(128):032x}"
    return f"{hexed[:8]}-{hexed[8:12]}-4{hexed[13:16]}-a{hexed[17:20]}-{hexed[20:]}"


def working_session(
    session: Session, start: datetime, minutes: float, *, prompt_every: tuple[int, int] = (2, 6)
) -> datetime:
    """A person working: a prompt, a few tool-using responses, a pause, again. Returns the end."""
    moment = start
    end = start + timedelta(minutes=minutes)
    while moment < end:
        session.prompt(moment)
        for _ in range(session.rng.randint(*prompt_every)):
            moment += timedelta(seconds=session.rng.uniform(8, 40))
            session.response(moment)
            session.tool_result(moment + timedelta(seconds=1))
        moment += timedelta(seconds=session.rng.uniform(30, 240))
    return moment


def broken_cache_incident(
    root: Path, start: datetime, seed: int = 1, model: str = OPUS_41
) -> datetime:
    """An Opus session working normally for 30 minutes, then a harness change breaks caching.

    From the returned moment every request rewrites the whole context (about 100k tokens)
    instead of reading it, every 20-40 s, while the person keeps prompting: ~$240/h on
    Opus 4.1, ~$90/h on Opus 4.6.
    """
    rng = random.Random(seed)
    session = Session(root, "checkout-service", rng, model=model, context=60_000)
    broken_at = working_session(session, start, 30)
    moment = broken_at
    while moment < broken_at + timedelta(minutes=30):
        if rng.random() < 0.2:
            session.prompt(moment)
        moment += timedelta(seconds=rng.uniform(20, 40))
        session.response(moment, broken=True, grow=rng.randint(100, 600))
        session.tool_result(moment + timedelta(seconds=1))
    session.write()
    return broken_at


def spend_spike_incident(root: Path, start: datetime, seed: int = 2) -> datetime:
    """Five working days of Sonnet at a few dollars an hour, then Opus 4.1 on a growing context.

    Returns when the spike starts (day 6, 14:00 after ``start``'s midnight).
    """
    rng = random.Random(seed)
    day0 = start.replace(hour=0, minute=0, second=0, microsecond=0)
    for day in range(5):
        for hour in (9, 11, 14, 16):
            session = Session(root, f"api-{day}", rng, model=SONNET)
            working_session(session, day0 + timedelta(days=day, hours=hour), 50)
            session.write()
    spike_at = day0 + timedelta(days=5, hours=14)
    session = Session(root, "ml-pipeline", rng, model=SONNET, context=30_000)
    moment = working_session(session, spike_at - timedelta(minutes=40), 40)
    # The person switches to the priciest model and has it read a large dataset schema:
    # caching keeps working, but every call adds tens of thousands of tokens on Opus 4.1.
    session.model = OPUS_41
    moment = max(moment, spike_at)
    session.prompt(moment)
    while moment < spike_at + timedelta(minutes=40):
        moment += timedelta(seconds=rng.uniform(15, 30))
        session.response(moment, grow=rng.randint(8_000, 20_000))
        if session.context > 180_000:
            session.context = 80_000  # auto-compaction
        session.tool_result(moment + timedelta(seconds=1))
        if rng.random() < 0.15:
            session.prompt(moment + timedelta(seconds=5))
    session.write()
    return spike_at


def overnight_loop_incident(root: Path, start: datetime, seed: int = 3) -> datetime:
    """An evening session whose last prompt starts an agent that loops until morning.

    Caching stays healthy; the agent just never stops: a request every 30-90 s with no
    human prompt for 8 hours. Returns the moment of the last human prompt.
    """
    rng = random.Random(seed)
    session = Session(root, "migration-tool", rng, model=SONNET, context=40_000)
    last_prompt = working_session(session, start, 45)
    session.prompt(last_prompt)
    moment = last_prompt
    while moment < last_prompt + timedelta(hours=8):
        moment += timedelta(seconds=rng.uniform(30, 90))
        session.response(moment, grow=rng.randint(200, 1500))
        session.tool_result(moment + timedelta(seconds=1))
        if session.context > 160_000:
            session.context = 60_000  # auto-compaction
    session.write()
    return last_prompt


def busy_session(session: Session, start: datetime, minutes: float) -> datetime:
    """A person keeping one agent busy: a prompt every ~3 minutes, a response every 15-25 s
    in between. Steadier than :func:`working_session`. Returns the end."""
    moment = start
    end = start + timedelta(minutes=minutes)
    while moment < end:
        session.prompt(moment)
        turn_end = moment + timedelta(seconds=session.rng.uniform(150, 210))
        while moment < turn_end:
            moment += timedelta(seconds=session.rng.uniform(15, 25))
            session.response(moment, grow=session.rng.randint(200, 900))
            session.tool_result(moment + timedelta(seconds=1))
            if session.context > 180_000:
                session.context = 120_000  # auto-compaction
    return moment


def scripted_loop_incident(root: Path, start: datetime, seed: int = 4) -> datetime:
    """A busy day of interactive Opus work (about $18/h from 09:00 to 18:00), then from
    23:00 a script starting ``claude -p`` every ~90 s until 07:30: each run a fresh session
    that writes a 92k-token context to cache and makes three more calls, about $34/h in
    all (the public report: $313 in 8.5 hours). At 4x a busy day's rate the spike detector
    stays quiet; only the unattended-spend detector sees it.

    The runs' lines carry ``"entrypoint": "sdk-cli"`` as Claude Code writes them, so their
    prompts are a script's. Returns the moment the script starts.
    """
    rng = random.Random(seed)
    day0 = start.replace(hour=0, minute=0, second=0, microsecond=0)
    for hour in range(9, 18):
        session = Session(root, "storefront", rng, model=OPUS, context=120_000)
        busy_session(session, day0 + timedelta(hours=hour), 55)
        session.write()
    script_at = day0 + timedelta(hours=23)
    moment = script_at
    while moment < script_at + timedelta(hours=8.5):
        run = Session(root, "nightly-report", rng, model=OPUS, context=92_000, entrypoint="sdk-cli")
        run.prompt(moment)
        call = moment + timedelta(seconds=rng.uniform(4, 8))
        run.response(call, broken=True, grow=rng.randint(500, 1500))
        for _ in range(3):
            call += timedelta(seconds=rng.uniform(6, 15))
            run.response(call)
        run.write()
        moment += timedelta(seconds=rng.uniform(85, 95))
    return script_at
