"""Current Cursor builds: zero bubble counts, figures on the conversation; doctor per ``_v``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from tokenbuddy.cli.doctor import format_cursor
from tokenbuddy.core.records import CURSOR_LOCAL
from tokenbuddy.services.ingest import sync_cursor
from tokenbuddy.sources.discovery import LogRoot
from tokenbuddy.store import cursor as cursor_store
from tokenbuddy.store.ledger import Ledger

from .builders import NOW_MS, create_store, put, split_composer


def zero_counts(path: Path, composer_id: str, turns: int, **fields: Any) -> None:
    """A conversation as current builds write it: every bubble's ``tokenCount`` is zeros."""
    split_composer(
        path, composer_id, [("claude-4.5-sonnet", NOW_MS - i, (0, 0)) for i in range(turns)]
    )
    with sqlite3.connect(path) as db:
        key = f"composerData:{composer_id}"
        value = orjson.loads(
            db.execute("SELECT value FROM cursorDiskKV WHERE key = ?", (key,)).fetchone()[0]
        )
        value.update(fields)
        put(path, key, value, db)
    db.close()


def read(tmp_path: Path, user_dir: Path) -> tuple[list[tuple[int, int, int]], dict[str, Any]]:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync_cursor(ledger, [LogRoot(CURSOR_LOCAL, user_dir, "test")])
        rows = ledger.db.execute(
            "SELECT input_tokens, output_tokens, cache_read_tokens FROM requests"
            " WHERE source = 'cursor-local' ORDER BY dedup_key"
        ).fetchall()
        report = cursor_store.doctor_report(ledger)
    return rows, report


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    return tmp_path / "Cursor" / "User"


@pytest.mark.parametrize(
    "fields",
    [
        {"tokenCount": {"inputTokens": 9000, "outputTokens": 300}},
        {"usage": {"input_tokens": 9000, "output_tokens": 300}},
        {"promptTokens": 9000, "completionTokens": 300},
    ],
)
def test_conversation_totals_are_shared_among_requests_without_counts(
    tmp_path: Path, user_dir: Path, fields: dict[str, Any]
) -> None:
    path = create_store(user_dir)
    zero_counts(path, "c", 3, **fields)
    rows, report = read(tmp_path, user_dir)
    assert sorted(rows) == [(3000, 100, 0)] * 3
    assert report["versions"] == {"3": {"real": 0, "estimated": 3, "unknown": 0}}


def test_real_bubble_counts_are_taken_off_the_conversation_total(
    tmp_path: Path, user_dir: Path
) -> None:
    path = create_store(user_dir)
    split_composer(
        path, "c", [("gpt-5", NOW_MS - 5, (4000, 100)), ("gpt-5", NOW_MS, (0, 0))], version=9
    )
    with sqlite3.connect(path) as db:
        value = orjson.loads(
            db.execute("SELECT value FROM cursorDiskKV WHERE key = 'composerData:c'").fetchone()[0]
        )
        value["tokenCount"] = {"inputTokens": 10000, "outputTokens": 400}
        put(path, "composerData:c", value, db)
    db.close()
    rows, report = read(tmp_path, user_dir)
    assert sorted(rows) == [(4000, 100, 0), (6000, 300, 0)]
    assert report["versions"]["9"] == {"real": 1, "estimated": 1, "unknown": 0}


def test_per_request_context_size_is_the_input_estimate(tmp_path: Path, user_dir: Path) -> None:
    path = create_store(user_dir)
    zero_counts(path, "c", 2)
    with sqlite3.connect(path) as db:
        for number, used in ((0, 12000), (1, 15000)):
            key = f"bubbleId:c:u{number}"
            bubble = orjson.loads(
                db.execute("SELECT value FROM cursorDiskKV WHERE key = ?", (key,)).fetchone()[0]
            )
            bubble["contextWindowStatusAtCreation"] = {"tokensUsed": used, "tokenLimit": 200000}
            put(path, key, bubble, db)
    db.close()
    rows, _ = read(tmp_path, user_dir)
    assert sorted(rows) == [(12000, 0, 0), (15000, 0, 0)]


def test_latest_context_fills_the_latest_request_only(tmp_path: Path, user_dir: Path) -> None:
    path = create_store(user_dir)
    zero_counts(path, "c", 2, contextTokensUsed=50000, contextTokenLimit=200000)
    rows, report = read(tmp_path, user_dir)
    assert sorted(rows) == [(0, 0, 0), (50000, 0, 0)]
    assert report["versions"]["3"] == {"real": 0, "estimated": 1, "unknown": 1}


def test_doctor_lists_real_estimated_and_unknown_per_version(
    tmp_path: Path, user_dir: Path
) -> None:
    path = create_store(user_dir)
    split_composer(path, "old", [("gpt-5", NOW_MS - 10, (5, 5))], version=2)
    zero_counts(path, "new", 2)
    _, report = read(tmp_path, user_dir)
    lines = "\n".join(format_cursor({**report, "unknown_token_requests": 2}))
    assert "composerData _v=2: 1 requests with real token counts, 0 estimated, 0 unknown" in lines
    assert "composerData _v=3: 0 requests with real token counts, 0 estimated, 2 unknown" in lines
