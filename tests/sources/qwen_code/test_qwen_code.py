"""Qwen Code's sessions into the ledger: each call once, in tokenbuddy's token meaning."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from tests.sources.qwen_code import files
from tests.sources.qwen_code.files import Session, usage
from tokenbuddy.core.records import QWEN_CODE, SkipReason
from tokenbuddy.services.ingest import sync
from tokenbuddy.sources import qwen_code
from tokenbuddy.sources.discovery import LogRoot, log_roots
from tokenbuddy.sources.gemini_usage import ABORTED_CALL
from tokenbuddy.sources.locations import LogDir
from tokenbuddy.store.ledger import Ledger

CWD = "/home/dev/svc"
SESSION = "0e11a0b1-0000-4000-8000-000000000001"
FORK = "0f0e4000-0000-4000-8000-000000000002"


def roots_for(home: Path) -> list[LogRoot]:
    environ = {qwen_code.ENV_VAR: str(home)}
    return [root for root in log_roots(environ, home.parent) if root.source == QWEN_CODE]


def totals(ledger: Ledger) -> tuple[int, ...]:
    row = ledger.db.execute(
        "SELECT COUNT(*), SUM(input_tokens), SUM(cache_read_tokens), SUM(output_tokens),"
        " SUM(reasoning_tokens) FROM requests WHERE source = ?",
        (QWEN_CODE,),
    ).fetchone()
    return tuple(int(value or 0) for value in row)


def build_home(home: Path) -> Session:
    """A session with prompts, calls from two providers' converters, the ui_telemetry
    that repeats a call, an aborted call, a subagent's call and records of unknown type;
    then a /branch fork that copies the first call, uuid and all."""
    session = Session(home, SESSION, CWD)
    session.user("2025-12-01T09:00:00.000Z")
    first = session.assistant(
        "2025-12-01T09:00:20.000Z", "qwen3-coder-plus", usage(50_000, 2_000, 30_000, 500)
    )
    session.telemetry("2025-12-01T09:00:20.000Z", usage(50_000, 2_000, 30_000, 500))
    session.user("2025-12-01T09:01:00.000Z", subtype="notification", provenance="system")
    gemini_api = {"promptTokenCount": 10_000, "candidatesTokenCount": 300,
                  "thoughtsTokenCount": 200, "totalTokenCount": 10_500}  # fmt: skip
    session.assistant("2025-12-01T09:01:30.000Z", "models/gemini-2.5-flash", gemini_api)
    session.assistant("2025-12-01T09:02:00.000Z", "qwen3-coder-plus", usage(0, 0))
    session.assistant("2025-12-01T09:02:10.000Z", "qwen3-coder-plus", None)
    session.assistant(
        "2025-12-01T09:03:00.000Z", "qwen/qwen3-coder-plus", usage(4_000, 100),
        isSidechain=True, agentId="explore-7f3c", agentName="Explore",
    )  # fmt: skip
    session.record("checkpoint", "2025-12-01T09:03:10.000Z")  # holds no usage: not parsed
    session.record("assistant_delta", "2025-12-01T09:03:20.000Z", usageMetadata=usage(5, 5))
    fork = Session(home, FORK, CWD)
    copy = first | {
        "sessionId": FORK,
        "forkedFrom": {"sessionId": SESSION, "messageUuid": first["uuid"]},
    }
    fork.append(copy)
    return session


EXPECTED = (4, 20_000 + 10_000 + 4_000 + 1_000, 30_000, 2_000 + 500 + 100 + 50, 500 + 200)
"""The first call: 50k prompt - 30k cached, 2k completion (500 reasoning inside it); the
Gemini API's call: 10k, 300 + 200 thoughts; the subagent's: 4k, 100; after the resume:
1k, 50."""


def test_every_call_counts_once_across_telemetry_forks_and_resumes(tmp_path: Path) -> None:
    home = tmp_path / ".qwen"
    session = build_home(home)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sync(ledger, roots_for(home)).errors == []
        resumed = session.assistant("2025-12-02T10:00:00.000Z", "coder-model", usage(1_000, 50))
        line = orjson.dumps(resumed | {"uuid": "later"})
        session.append(line[:40])  # still being written
        sync(ledger, roots_for(home))
        assert totals(ledger) == EXPECTED
        rows = ledger.db.execute(
            "SELECT model, cost_usd, is_sidechain, agent_id, agent_type, project FROM requests"
        ).fetchall()
        assert {row[5] for row in rows} == {CWD}
        assert ("qwen3-coder-plus", None, 1, "explore-7f3c", "Explore", CWD) in rows
        priced = {row[0]: row[1] for row in rows if row[1] is not None}
        assert priced == {"gemini-2.5-flash": pytest.approx((10_000 * 0.30 + 500 * 2.50) / 1e6)}
        prompts = ledger.db.execute("SELECT session_id, ts_ms FROM prompts").fetchall()
        assert [row[0] for row in prompts] == [SESSION]
        stored = ledger.files()[str(session.path)]
        assert stored.skipped == {SkipReason.UNKNOWN_TYPE: 1, ABORTED_CALL: 1}
        assert stored.notes == {qwen_code.NO_USAGE: 1, qwen_code.TELEMETRY_REPEATS: 1}


def test_qwen_homes_from_the_override_the_runtime_dir_or_the_default(tmp_path: Path) -> None:
    def dirs(environ: dict[str, str]) -> list[LogDir]:
        return qwen_code.log_dirs(environ, tmp_path, "linux", tmp_path / "none")

    assert dirs({qwen_code.ENV_VAR: "/q"}) == [LogDir(Path("/q/projects"), qwen_code.ENV_VAR)]
    assert dirs({"QWEN_RUNTIME_DIR": "/r"}) == [
        LogDir(Path("/r/projects"), "QWEN_RUNTIME_DIR"),
        LogDir(tmp_path / ".qwen" / "projects", "default"),
    ]


def test_the_history_builder_makes_a_readable_home(tmp_path: Path) -> None:
    home = tmp_path / ".qwen"
    files.history(home, sessions=6, calls=10)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sync(ledger, roots_for(home)).errors == []
        assert totals(ledger)[0] == 60
    shutil.rmtree(home)
