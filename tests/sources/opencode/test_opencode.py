"""OpenCode: its database read from a watermark, its JSON files read whole, each model
call (a step-finish part, or a message without any) counted once in our token meaning."""

from __future__ import annotations

import json
import queue
from pathlib import Path

import pytest

from tests.sources.opencode import files
from tests.sources.opencode.files import T0, Store, assistant, step, tokens, user
from tokenbuddy.cli.main import main
from tokenbuddy.core.records import OPENCODE, ParseStats, SkipReason
from tokenbuddy.services.ingest import sync, sync_paths
from tokenbuddy.sources import opencode
from tokenbuddy.sources.discovery import log_roots
from tokenbuddy.sources.opencode import calls, database
from tokenbuddy.sources.watch import LogWatcher, source_of
from tokenbuddy.store.ledger import Ledger


def roots(home: Path) -> list:  # type: ignore[type-arg]
    environ = {"TOKENBUDDY_OPENCODE_DIR": str(home), "CLAUDE_CONFIG_DIR": str(home / "none")}
    return [root for root in log_roots(environ, home) if root.source == OPENCODE]


def totals(ledger: Ledger) -> tuple[int, ...]:
    """(requests, input, output, cache read, cache write, reasoning) in the ledger."""
    row = ledger.db.execute(
        "SELECT COUNT(*), TOTAL(input_tokens), TOTAL(output_tokens), TOTAL(cache_read_tokens),"
        " TOTAL(cache_write_5m_tokens), TOTAL(reasoning_tokens) FROM requests"
    ).fetchone()
    return tuple(int(value) for value in row)


def agentic_store(home: Path) -> Store:
    """A top session with a two-step message and a one-step message, a subagent session,
    a person's prompt, an aborted message and a free model's call."""
    store = Store(home / "opencode.db")
    store.session("ses_top")
    store.session("ses_child", parent="ses_top")
    store.message(user("msg_u1", "ses_top", T0), T0)
    two_steps = assistant(
        "msg_a1", "ses_top", T0 + 1000, tokens(30, 200, 50, 9000, 1000), cost=0.09
    )
    store.message(two_steps, T0 + 9000)
    store.part(step("prt_a1_1", two_steps, tokens(100, 400, 0, 8000, 2000), 0.05), T0 + 5000)
    store.part(files.text_part("prt_a1_2", two_steps), T0 + 6000)
    store.part(step("prt_a1_3", two_steps, tokens(30, 200, 50, 9000, 1000), 0.04), T0 + 9000)
    child = assistant("msg_c1", "ses_child", T0 + 2000, tokens(10, 90, 0, 500), agent="explore")
    store.message(child, T0 + 7000)
    store.part(step("prt_c1_1", child, tokens(10, 90, 0, 500), 0.01), T0 + 7000)
    store.message(user("msg_u2", "ses_child", T0 + 1500), T0 + 1500)  # the task tool's words
    aborted = assistant("msg_x", "ses_top", T0 + 3000, tokens(0, 0), completed=False)
    store.message(aborted, T0 + 3000)
    free = assistant("msg_f", "ses_top", T0 + 4000, tokens(7, 3), cost=0.0, model="big-pickle",
                     provider="opencode")  # fmt: skip
    store.message(free, T0 + 8000)
    return store


def test_each_step_is_one_call_subagents_count_in_their_parent_and_rollups_are_not_read(
    tmp_path: Path,
) -> None:
    home = tmp_path / "opencode"
    agentic_store(home).close()
    stats = ParseStats()
    found = opencode.read(str(home / "opencode.db"), {}, stats)
    by_key = {record.dedup_key: record for record in found.records}
    assert sorted(by_key) == ["oc:msg_f", "oc:prt_a1_1", "oc:prt_a1_3", "oc:prt_c1_1"]
    last = by_key["oc:prt_a1_3"]
    # v6: output stored without reasoning; ours includes it.
    assert (last.input_tokens, last.output_tokens, last.reasoning_tokens) == (30, 200, 50)
    assert (last.cache_read_tokens, last.cache_write_5m_tokens) == (9000, 1000)
    assert (last.reported_cost_usd, last.ts_ms, last.model) == (
        0.04,
        T0 + 5000,
        "claude-sonnet-4-5",
    )
    assert (last.session_id, last.project, last.is_sidechain) == ("ses_top", "/home/dev/app", False)
    sub = by_key["oc:prt_c1_1"]
    assert (sub.session_id, sub.agent_id, sub.agent_type, sub.is_sidechain) == (
        "ses_top", "ses_child", "explore", True,
    )  # fmt: skip
    assert found.prompts == [(OPENCODE, "ses_top", T0)]
    assert stats.skipped == {calls.NO_USAGE: 1}
    assert stats.lines == 6 and found.whole is False
    assert found.state == {"updated": T0 + 9000}


def test_the_database_is_read_from_its_watermark_and_a_growing_call_keeps_its_final_counts(
    tmp_path: Path,
) -> None:
    home = tmp_path / "opencode"
    store = Store(home / "opencode.db")
    store.session("ses_1")
    streaming = assistant("msg_1", "ses_1", T0, tokens(0, 0), completed=False)
    store.message(streaming, T0)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, roots(home))
        assert totals(ledger)[0] == 0
        done = assistant("msg_1", "ses_1", T0, tokens(100, 50, 0, 1000), cost=0.01)
        store.part(step("prt_1", done, tokens(60, 20, 0, 1000), 0.004), T0 + 2000)
        store.message(done, T0 + 2000)
        sync(ledger, roots(home))
        assert totals(ledger) == (1, 60, 20, 1000, 0, 0)
        store.part(step("prt_2", done, tokens(100, 50, 0, 1000), 0.006), T0 + 3000)
        store.message(done, T0 + 3000)
        sync(ledger, roots(home))
        assert totals(ledger) == (2, 160, 70, 2000, 0, 0)
        stored = ledger.files()[str(home / "opencode.db")]
        assert stored.cursor.state == {"updated": T0 + 3000}
        assert sync(ledger, roots(home)).files_read == 0
    store.close()


def test_files_copied_into_the_database_by_the_migration_count_once(tmp_path: Path) -> None:
    home = tmp_path / "opencode"
    message = assistant("msg_m", "ses_m", T0, tokens(40, 60, 0, 500), cost=0.02)
    part = step("prt_m", message, tokens(40, 60, 0, 500), 0.02)
    files.write_session(home, "ses_m", "/home/dev/app")
    files.write_message(home, message)
    files.write_part(home, part)
    files.write_message(home, user("msg_um", "ses_m", T0 - 1000))
    store = Store(home / "opencode.db")
    store.session("ses_m")
    store.message(message, T0 + 100)
    store.part(part, T0 + 100)
    store.close()
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        summary = sync(ledger, roots(home))
        assert summary.errors == [] and summary.files_seen == 3
        assert totals(ledger) == (1, 40, 60, 500, 0, 0)
        prompts = ledger.db.execute("SELECT COUNT(*) FROM prompts").fetchone()[0]
    assert prompts == 1


def test_json_messages_of_every_era_in_our_token_meaning(tmp_path: Path) -> None:
    home = tmp_path / "opencode"
    files.write_session(home, "ses_j", "/home/dev/json")
    files.write_session(home, "ses_k", "/home/dev/json", parent="ses_j")
    before_fix = T0 - 120 * 86_400_000  # 2025-09
    old = assistant("msg_old", "ses_j", before_fix, tokens(100, 40, 0, 900, 0, era="old"),
                    model="gpt-4.1", provider="openai")  # fmt: skip
    v5 = assistant("msg_v5", "ses_k", T0, tokens(20, 300, 120, 700, era="v5"),
                   model="openai/gpt-5.1", provider="openrouter", cost=0.03)  # fmt: skip
    gemini = assistant("msg_g", "ses_j", before_fix, tokens(5, 10, 40, 0, era="old"),
                       model="gemini-2.5-pro", provider="google")  # fmt: skip
    for message in (old, v5, gemini):
        files.write_message(home, message)
    files.write_first_layout(home, "ses_first", "msg_first", before_fix)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sync(ledger, roots(home)).errors == []
        rows = dict(
            (key, values)
            for key, *values in ledger.db.execute(
                "SELECT dedup_key, input_tokens, output_tokens, cache_read_tokens,"
                " reasoning_tokens, model, session_id, project FROM requests"
            )
        )
        noted = ledger.files()[str(home / "storage/message/ses_j/msg_old.json")].notes
    assert rows == {
        "oc:msg_old": [100, 40, 900, 0, "gpt-4.1", "ses_j", "/home/dev/app"],
        "oc:msg_v5": [20, 300, 700, 120, "gpt-5.1", "ses_j", "/home/dev/app"],
        "oc:msg_g": [5, 50, 0, 40, "gemini-2.5-pro", "ses_j", "/home/dev/app"],
        "oc:msg_first": [400, 300, 800, 0, "gpt-4.1", "ses_first", "/home/dev/old"],
    }
    assert noted == {calls.INPUT_WITH_CACHE: 1}


@pytest.mark.parametrize(
    ("stored", "provider", "expected"),
    [
        (tokens(10, 100, 30, 500, 5, era="v6"), "anthropic", (10, 100, 30, 500, 5)),
        (tokens(10, 100, 30, 500, 5, era="v5"), "openai", (10, 100, 30, 500, 5)),
        (tokens(10, 100, 30, 500, 5, era="old"), "openai", (10, 100, 30, 500, 5)),
        ({"input": 10, "output": 100, "reasoning": 0, "cache": {"read": 500, "write": 5}},
         "anthropic", (10, 100, 0, 500, 5)),
        ({"input": 10, "output": 5, "reasoning": 30, "cache": {"read": 0, "write": 0}},
         "openai", (10, 35, 30, 0, 0)),
    ],
)  # fmt: skip
def test_token_meaning_by_era(
    stored: dict[str, object], provider: str, expected: tuple[int, ...]
) -> None:
    found = calls.tokens_of(stored, provider, T0 - 90 * 86_400_000)
    assert found is not None
    result, _converted = found
    as_tuple = (
        result.input,
        result.output,
        result.reasoning,
        result.cache_read,
        result.cache_write,
    )
    assert as_tuple == expected


def test_broken_files_are_counted_skips_and_read_again_when_written(tmp_path: Path) -> None:
    home = tmp_path / "opencode"
    message = assistant("msg_h", "ses_h", T0, tokens(1, 2), model="mystery-model-9", cost=0.5)
    path = files.write_message(home, message)
    whole = path.read_bytes()
    path.write_bytes(whole[:-20])  # caught mid-write
    (home / "opencode.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 80)  # half-written
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        assert sync(ledger, roots(home)).errors == []
        stored = ledger.files()
        assert stored[str(path)].skipped == {SkipReason.INVALID_JSON: 1}
        assert stored[str(home / "opencode.db")].skipped == {database.DB_INVALID: 1}
        path.write_bytes(whole)
        sync(ledger, roots(home))
        row = ledger.db.execute(
            "SELECT model, cost_usd, reported_cost_usd FROM requests"
        ).fetchone()
    assert tuple(row) == ("mystery-model-9", None, 0.5)  # unpriced, never $0


def test_a_write_to_the_wal_is_followed_live(tmp_path: Path) -> None:
    home = tmp_path / "opencode"
    store = agentic_store(home)
    found = roots(home)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sync(ledger, found)
        assert totals(ledger)[0] == 4
        batches: queue.Queue[frozenset[str]] = queue.Queue()
        watcher = LogWatcher(found, batches.put, debounce=0.05)
        watcher.start()
        try:
            later = assistant("msg_l", "ses_top", T0 + 60_000, tokens(5, 5, 0, 100), cost=0.001)
            store.message(later, T0 + 61_000)
            changed = batches.get(timeout=10)
        finally:
            watcher.stop()
        assert any(path.startswith(str(home / "opencode.db")) for path in changed)
        followed = [(path, source_of(path, found) or "") for path in changed]
        assert {name for _path, name in followed} == {OPENCODE}
        sync_paths(ledger, followed)
        assert totals(ledger)[0] == 5
    store.close()


def test_default_directories_on_every_platform(tmp_path: Path) -> None:
    windows = tmp_path / "Users"
    (windows / "ana" / ".local" / "share" / "opencode").mkdir(parents=True)
    home = tmp_path / "home"
    linux = opencode.log_dirs({}, home, "linux", windows)
    assert [entry.path for entry in linux] == [home / ".local/share/opencode"]
    xdg = opencode.log_dirs({"XDG_DATA_HOME": str(tmp_path / "xdg")}, home, "darwin", windows)
    assert [entry.path for entry in xdg] == [tmp_path / "xdg/opencode"]
    wsl = opencode.log_dirs({"WSL_DISTRO_NAME": "Ubuntu"}, home, "linux", windows)
    assert [(e.path, e.origin) for e in wsl][1:] == [(windows / "ana/.local/share/opencode", "WSL")]
    named = opencode.log_dirs({opencode.OVERRIDE: "/a, /b"}, home, "win32", windows)
    assert [(e.path, e.origin) for e in named] == [(Path("/a"), opencode.OVERRIDE),
                                                   (Path("/b"), opencode.OVERRIDE)]  # fmt: skip


def test_the_report_command_totals_opencode_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "opencode"
    agentic_store(home).close()
    monkeypatch.setenv(opencode.OVERRIDE, str(home))
    assert main(["report", "daily", "--source", OPENCODE, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    day = report["totals"]
    assert day["requests"] == 4
    assert (day["input_tokens"], day["output_tokens"]) == (147, 693)
    assert (day["cache_read_tokens"], day["cache_creation_tokens"]) == (17500, 3000)
    assert report["unpriced_models"] == {"big-pickle": 1}
