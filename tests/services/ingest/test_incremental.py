"""Incremental ingest into the ledger: appends, duplicates, rewrites, crashes and bad input.

Every test writes small hand-made transcripts under the temporary
``CLAUDE_CONFIG_DIR`` / ``CODEX_HOME`` that ``conftest`` sets up, syncs a ledger
one or more times, and checks exact token totals and request counts.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

import orjson
import pytest

from tokenbuddy.core.records import CLAUDE_CODE, INVALID_UTF8_REPAIRED, SkipReason
from tokenbuddy.services.ingest import IngestSummary, sync
from tokenbuddy.services.report import build_report
from tokenbuddy.sources.discovery import LogRoot, log_roots
from tokenbuddy.sources.tailer import ChunkReader
from tokenbuddy.store.ledger import Ledger, StoredFile

if TYPE_CHECKING:
    from collections.abc import Iterator

UTC = ZoneInfo("UTC")
MODEL = "claude-sonnet-4-5-20250929"
CODEX_SESSION = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


# -- building transcripts ------------------------------------------------------------------


def assistant(
    n: int,
    *,
    output: int = 20,
    text: str = "hi",
    session: str = "s1",
    **overrides: Any,
) -> dict[str, Any]:
    """A Claude Code assistant record for request ``n``: input 10, cache write 100, read 1000."""
    record: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "type": "assistant",
        "uuid": f"u{n}",
        "timestamp": "2026-11-20T10:00:00.000Z",
        "sessionId": session,
        "cwd": "/home/dev/proj",
        "requestId": f"req_{n}",
        "message": {
            "id": f"msg_{n}",
            "model": MODEL,
            "role": "assistant",
            "content": [{"type": "text", "text": text}],
            "usage": {
                "input_tokens": 10,
                "output_tokens": output,
                "cache_creation_input_tokens": 100,
                "cache_read_input_tokens": 1000,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 100,
                    "ephemeral_1h_input_tokens": 0,
                },
            },
        },
    }
    record.update(overrides)
    return record


def line(record: Any) -> bytes:
    """One JSONL line: compact JSON and a newline."""
    return orjson.dumps(record) + b"\n"


def lines(*records: Any) -> bytes:
    """Several JSONL lines."""
    return b"".join(line(record) for record in records)


def transcript(session: str = "s1") -> Path:
    """The path of a Claude Code session transcript under the test's CLAUDE_CONFIG_DIR."""
    directory = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects" / "-home-dev-proj"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{session}.jsonl"


def append(path: Path, data: bytes) -> None:
    """Append raw bytes, as a writer would."""
    with path.open("ab") as handle:
        handle.write(data)


# -- syncing and reading totals ------------------------------------------------------------


class Counts(NamedTuple):
    """The token totals and request count a report shows."""

    requests: int
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_read_tokens: int


def standard(requests: int) -> Counts:
    """Totals of ``requests`` distinct records with the default usage of :func:`assistant`."""
    return Counts(requests, 10 * requests, 20 * requests, 100 * requests, 1000 * requests)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A fresh ledger in the test's temporary directory."""
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def run_sync(ledger: Ledger) -> IngestSummary:
    """One ingest pass over the log roots the environment points at."""
    return sync(ledger, log_roots(os.environ, Path.home()))


def totals(ledger: Ledger) -> dict[str, Any]:
    """The grand totals of a daily report over the whole ledger."""
    grand_total: dict[str, Any] = build_report(ledger, "daily", zone=UTC)["totals"]
    return grand_total


def counts(ledger: Ledger) -> Counts:
    """The token totals and request count of the whole ledger."""
    return Counts(*(totals(ledger)[name] for name in Counts._fields))


def stored(ledger: Ledger, path: Path) -> StoredFile:
    """What the ledger remembers about one file (the counters ``doctor`` shows)."""
    return ledger.files()[str(path)]


# -- appends -------------------------------------------------------------------------------


def test_half_line_waits_for_its_end_then_counts_once(ledger: Ledger) -> None:
    path = transcript()
    second = line(assistant(2))
    path.write_bytes(line(assistant(1)) + second[:60])

    run_sync(ledger)
    assert counts(ledger) == standard(1)
    first = stored(ledger, path)
    assert first.cursor.pending_bytes == 60
    assert first.cursor.offset == len(line(assistant(1)))
    assert (first.lines, first.records, first.skipped) == (1, 1, {})
    assert build_report(ledger, "daily", zone=UTC)["skipped_lines"] == 0

    append(path, second[60:])
    summary = run_sync(ledger)
    assert summary.requests_written == 1
    assert counts(ledger) == standard(2)
    done = stored(ledger, path)
    assert done.cursor.pending_bytes == 0
    assert done.cursor.offset == path.stat().st_size
    assert (done.lines, done.records, done.skipped) == (2, 2, {})


def test_second_sync_with_nothing_new_writes_nothing(ledger: Ledger) -> None:
    path = transcript()
    path.write_bytes(lines(assistant(1), assistant(2)) + line(assistant(3))[:50])
    first = run_sync(ledger)
    assert (first.files_read, first.requests_written) == (1, 2)
    before = totals(ledger)

    again = run_sync(ledger)
    assert (again.files_seen, again.files_read, again.bytes_read) == (1, 0, 0)
    assert again.requests_written == 0
    assert totals(ledger) == before


def test_touched_file_is_checked_but_nothing_is_written(ledger: Ledger) -> None:
    """A new mtime without new bytes re-reads nothing and does not restart the file."""
    path = transcript()
    path.write_bytes(lines(assistant(1), assistant(2)))
    run_sync(ledger)
    mtime = path.stat().st_mtime_ns
    os.utime(path, ns=(mtime + 10**9, mtime + 10**9))

    summary = run_sync(ledger)
    assert (summary.bytes_read, summary.requests_written, summary.restarted_files) == (0, 0, 0)
    assert counts(ledger) == standard(2)
    assert stored(ledger, path).lines == 2


def test_last_line_without_newline_is_read_when_it_is_complete_json(ledger: Ledger) -> None:
    """A writer that never ends its last line: the complete object counts, and only once."""
    path = transcript()
    path.write_bytes(line(assistant(1)) + orjson.dumps(assistant(2)))
    run_sync(ledger)
    assert counts(ledger) == standard(2)
    assert stored(ledger, path).cursor.pending_bytes == 0

    append(path, b"\n" + line(assistant(3)))
    summary = run_sync(ledger)
    assert summary.requests_written == 1
    assert counts(ledger) == standard(3)
    assert (stored(ledger, path).lines, stored(ledger, path).skipped) == (3, {})


# -- streaming duplicates -------------------------------------------------------------------


def reference_totals(tmp_path: Path, *records: dict[str, Any]) -> dict[str, Any]:
    """Totals (cost included) of a separate ledger that only ever saw ``records``."""
    projects = tmp_path / "reference" / "projects"
    (projects / "p").mkdir(parents=True)
    (projects / "p" / "ref.jsonl").write_bytes(lines(*records))
    with Ledger(tmp_path / "reference" / "ledger.sqlite3") as reference:
        sync(reference, [LogRoot(CLAUDE_CODE, projects, "test")])
        return totals(reference)


@pytest.mark.parametrize(("first", "last"), [(3, 250), (250, 3)], ids=["growing", "shrinking"])
def test_streamed_copies_of_one_response_count_once_with_the_largest(
    ledger: Ledger, tmp_path: Path, first: int, last: int
) -> None:
    path = transcript()
    path.write_bytes(lines(assistant(1, output=first), assistant(1, output=last, uuid="u1b")))
    run_sync(ledger)
    assert counts(ledger) == Counts(1, 10, 250, 100, 1000)
    assert totals(ledger) == reference_totals(tmp_path, assistant(1, output=250))


@pytest.mark.parametrize(("first", "last"), [(3, 250), (250, 3)], ids=["growing", "shrinking"])
def test_streamed_copies_split_across_syncs_keep_the_largest(
    ledger: Ledger, tmp_path: Path, first: int, last: int
) -> None:
    """The first copy is synced while the second is still half written."""
    path = transcript()
    later = line(assistant(1, output=last, uuid="u1b"))
    path.write_bytes(line(assistant(1, output=first)) + later[:70])
    run_sync(ledger)
    assert counts(ledger) == Counts(1, 10, first, 100, 1000)

    append(path, later[70:])
    run_sync(ledger)
    assert counts(ledger) == Counts(1, 10, 250, 100, 1000)
    assert totals(ledger) == reference_totals(tmp_path, assistant(1, output=250))
    assert stored(ledger, path).lines == 2


# -- truncation, replacement, deletion -----------------------------------------------------


def test_truncated_file_is_reread_without_double_counting(ledger: Ledger) -> None:
    path = transcript()
    path.write_bytes(lines(assistant(1), assistant(2), assistant(3)))
    run_sync(ledger)
    assert counts(ledger) == standard(3)

    path.write_bytes(line(assistant(1)))
    summary = run_sync(ledger)
    assert (summary.files_read, summary.restarted_files) == (1, 1)
    assert counts(ledger) == standard(3), "requests of vanished lines stay in the ledger"
    rewritten = stored(ledger, path)
    assert (rewritten.lines, rewritten.records) == (1, 1)
    assert rewritten.cursor.offset == path.stat().st_size

    append(path, line(assistant(4)))
    summary = run_sync(ledger)
    assert (summary.restarted_files, summary.requests_written) == (0, 1)
    assert counts(ledger) == standard(4)
    assert stored(ledger, path).lines == 2


def test_file_truncated_to_a_long_prefix_is_reread_from_the_start(ledger: Ledger) -> None:
    """Past the 4 KB the head hash covers, only the shrunk size tells a truncation."""
    path = transcript()
    records = [assistant(n, text="x" * 1000) for n in range(1, 7)]
    path.write_bytes(lines(*records))
    run_sync(ledger)

    path.write_bytes(lines(*records[:5]))
    summary = run_sync(ledger)
    assert (summary.restarted_files, summary.requests_written) == (1, 5)
    assert stored(ledger, path).cursor.offset == path.stat().st_size

    append(path, line(assistant(7)))
    run_sync(ledger)
    assert counts(ledger) == standard(7)
    assert stored(ledger, path).lines == 6


def test_truncated_file_rewritten_with_new_records_counts_them(ledger: Ledger) -> None:
    path = transcript()
    path.write_bytes(lines(assistant(1), assistant(2), assistant(3)))
    run_sync(ledger)

    path.write_bytes(line(assistant(9)))
    summary = run_sync(ledger)
    assert (summary.restarted_files, summary.requests_written) == (1, 1)
    assert counts(ledger) == standard(4)


def test_replaced_file_counts_only_its_new_record(ledger: Ledger) -> None:
    path = transcript()
    content = lines(assistant(1), assistant(2))
    path.write_bytes(content)
    run_sync(ledger)
    old_inode = path.stat().st_ino

    replacement = path.with_suffix(".tmp")
    replacement.write_bytes(content + line(assistant(3)))
    os.replace(replacement, path)
    assert path.stat().st_ino != old_inode

    summary = run_sync(ledger)
    assert (summary.files_read, summary.restarted_files) == (1, 1)
    assert counts(ledger) == standard(3)
    replaced = stored(ledger, path)
    assert (replaced.lines, replaced.records, replaced.cursor.inode) == (3, 3, path.stat().st_ino)


def test_deleted_file_keeps_its_requests_and_is_flagged_missing(ledger: Ledger) -> None:
    kept, deleted = transcript("s1"), transcript("s2")
    kept.write_bytes(line(assistant(1)))
    deleted.write_bytes(lines(assistant(2, session="s2"), assistant(3, session="s2")))
    run_sync(ledger)
    assert counts(ledger) == standard(3)

    deleted.unlink()
    summary = run_sync(ledger)
    assert (summary.files_seen, summary.missing_files, summary.requests_written) == (1, 1, 0)
    assert counts(ledger) == standard(3)
    assert stored(ledger, deleted).missing
    assert not stored(ledger, kept).missing

    deleted.write_bytes(line(assistant(4, session="s2")))
    summary = run_sync(ledger)
    assert summary.missing_files == 0
    assert not stored(ledger, deleted).missing
    assert counts(ledger) == standard(4)


def test_file_that_comes_back_unchanged_is_no_longer_missing(
    ledger: Ledger, tmp_path: Path
) -> None:
    """Moved away for one sync (an unmounted disk, a renamed dir), then moved back as it was."""
    path = transcript()
    path.write_bytes(line(assistant(1)))
    run_sync(ledger)
    aside = tmp_path / "aside.jsonl"
    path.rename(aside)
    run_sync(ledger)
    assert stored(ledger, path).missing

    aside.rename(path)
    summary = run_sync(ledger)
    assert summary.missing_files == 0
    assert not stored(ledger, path).missing


def test_file_rewritten_longer_with_the_same_head_is_reread(ledger: Ledger) -> None:
    """Rewritten between two syncs: same first 5 KB, then new records, longer than before."""
    path = transcript()
    big = line(assistant(1, text="a" * 5000))
    path.write_bytes(big + line(assistant(2)))
    run_sync(ledger)

    path.write_bytes(big + lines(assistant(3), assistant(4, text="b" * 2000), assistant(5)))
    run_sync(ledger)
    assert counts(ledger) == standard(5)
    assert stored(ledger, path).skipped == {}


# -- crash safety --------------------------------------------------------------------------

BIG_FILES = 60
BIG_RECORDS = 400


def write_big_tree(projects: Path) -> None:
    """60 transcripts of 400 distinct requests each, padded with user lines (about 20 MB)."""
    padding = line({"type": "user", "message": {"role": "user", "content": "x" * 400}})
    for file_number in range(BIG_FILES):
        session = f"big{file_number}"
        records = (
            line(assistant(file_number * BIG_RECORDS + n, session=session)) + padding
            for n in range(BIG_RECORDS)
        )
        directory = projects / f"-home-dev-proj{file_number % 4}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{session}.jsonl").write_bytes(b"".join(records))


def report_env(home: Path) -> dict[str, str]:
    """The environment for a ``tokenbuddy`` subprocess keeping its ledger under ``home``."""
    return {
        **os.environ,
        "TOKENBUDDY_HOME": str(home),
        "CLAUDE_CONFIG_DIR": os.environ["CLAUDE_CONFIG_DIR"],
        "CODEX_HOME": os.environ["CODEX_HOME"],
    }


REPORT_COMMAND = [sys.executable, "-m", "tokenbuddy", "report", "daily", "--json"]


def run_report(home: Path) -> dict[str, Any]:
    """Run ``tokenbuddy report daily --json`` to completion; its JSON output."""
    done = subprocess.run(
        REPORT_COMMAND, env=report_env(home), capture_output=True, timeout=60, check=True
    )
    report: dict[str, Any] = orjson.loads(done.stdout)
    return report


def start_report(home: Path) -> subprocess.Popen[bytes]:
    """Start ``tokenbuddy report daily --json`` without waiting for it."""
    return subprocess.Popen(
        REPORT_COMMAND, env=report_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def kill_after(home: Path, delay: float) -> None:
    """Start a report and SIGKILL it after ``delay`` seconds (it may have finished)."""
    process = start_report(home)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)


def committed_files(ledger_path: Path) -> int:
    """Files whose cursor a reader sees committed in a ledger another process writes (0 if none)."""
    if not ledger_path.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True, timeout=0.1)) as db:
            count: int = db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    except sqlite3.Error:
        return 0
    return count


def kill_after_first_commit(home: Path) -> int:
    """SIGKILL a report as soon as a first file cursor is committed; the files it had committed.

    Requests and the cursors that cover them commit together, so a kill here must
    not lose any request that a later run will not read again.
    """
    ledger_path = home / "data" / "ledger.sqlite3"
    process = start_report(home)
    committed = 0
    while process.poll() is None and not committed:
        committed = committed_files(ledger_path)
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    return committed


def file_counters(home: Path) -> dict[str, tuple[int, int, dict[str, int], int, int]]:
    """Per file: (lines, records, skipped, offset, pending bytes), as ``doctor`` would see them."""
    with Ledger(home / "data" / "ledger.sqlite3") as opened:
        return {
            path: (f.lines, f.records, f.skipped, f.cursor.offset, f.cursor.pending_bytes)
            for path, f in opened.files().items()
        }


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_ingest_then_rerun_matches_a_clean_run(tmp_path: Path) -> None:
    """Kill ``report`` at several points (some runs may finish first), then let it complete.

    Each killed-then-completed ledger must give the report, and the per-file counters,
    of one clean run: nothing lost, nothing counted twice.
    """
    write_big_tree(Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects")
    started = time.monotonic()
    clean = run_report(tmp_path / "clean")
    clean_seconds = time.monotonic() - started
    assert Counts(*(clean["totals"][name] for name in Counts._fields)) == standard(
        BIG_FILES * BIG_RECORDS
    )
    clean_files = file_counters(tmp_path / "clean")

    homes = []
    for index, delay in enumerate((0.15, 0.3, 0.5 * clean_seconds, 0.8 * clean_seconds)):
        home = tmp_path / f"killed-{index}-after-{delay:.2f}s"
        kill_after(home, delay)
        homes.append(home)
    mid = tmp_path / "killed-after-first-commit"
    assert kill_after_first_commit(mid) > 0, "the run ended before committing anything"
    homes.append(mid)

    for home in homes:
        assert run_report(home) == clean, home.name
        assert file_counters(home) == clean_files, home.name


# -- bad input -----------------------------------------------------------------------------


def test_bad_lines_are_counted_and_never_fatal(ledger: Ledger) -> None:
    """Each bad line is counted under its reason; the valid requests all count.

    Stray invalid UTF-8 bytes in a record's text (never read) do not matter; in a
    field that is read (its project), the record is read with them replaced, and
    noted. Lines without a string ``type`` are unknown; a known type that only nests
    a ``usage`` key (a Task tool result) is neither a request nor a skip.
    """
    path = transcript()
    glued = line(assistant(3))
    bad_utf8 = line(assistant(9, text="PLACEHOLDER")).replace(b"PLACEHOLDER", b"caf\xe9 \xff")
    bad_cwd = line(assistant(10)).replace(b"/home/dev/proj", b"/home/dev/caf\xe9")
    path.write_bytes(
        line(assistant(1))
        + b"this is not JSON\n"
        + bad_utf8
        + bad_cwd
        + line(assistant(7))[:150]
        + glued
        + line([assistant(8)])
        + line({"message": {"usage": {"input_tokens": 5}}})
        + line({"type": 42, "message": {"usage": {"input_tokens": 5}}})
        + line({"type": "user", "toolUseResult": {"usage": {"input_tokens": 5}}})
        + line(assistant(2))
    )

    summary = run_sync(ledger)
    assert summary.errors == []
    assert counts(ledger) == standard(5)
    assert summary.requests_written == 5
    result = stored(ledger, path)
    assert result.skipped == {
        SkipReason.INVALID_JSON: 1,
        SkipReason.TRUNCATED: 1,
        SkipReason.NOT_AN_OBJECT: 1,
        SkipReason.UNKNOWN_TYPE: 2,
    }
    assert result.notes == {INVALID_UTF8_REPAIRED: 1}
    assert (result.lines, result.records) == (10, 5)
    projects = {row[0] for row in ledger.db.execute("SELECT DISTINCT project FROM requests")}
    assert projects == {"/home/dev/proj", "/home/dev/caf\ufffd"}
    assert build_report(ledger, "daily", zone=UTC)["skipped_lines"] == 5


def test_crashed_writer_half_line_glued_to_the_next_record(ledger: Ledger) -> None:
    """A half line waits; when a whole record is appended to it, that record still counts."""
    path = transcript()
    path.write_bytes(line(assistant(1)) + line(assistant(2))[:120])
    run_sync(ledger)
    assert stored(ledger, path).cursor.pending_bytes == 120

    append(path, line(assistant(3)))
    run_sync(ledger)
    assert counts(ledger) == standard(2)
    result = stored(ledger, path)
    assert result.skipped == {SkipReason.TRUNCATED: 1}
    assert (result.lines, result.records, result.cursor.pending_bytes) == (2, 2, 0)


def assert_error_reported_and_others_read(ledger: Ledger, bad: Path, good: Path) -> None:
    """One sync: ``bad`` is reported, not fatal; ``good`` is read in full."""
    summary = run_sync(ledger)
    assert summary.errors == [f"cannot read {bad}: Permission denied"]
    assert summary.files_read == 1
    assert counts(ledger) == standard(1)
    assert stored(ledger, good).records == 1
    assert stored(ledger, bad).error


def write_bad_and_good() -> tuple[Path, Path]:
    """Two transcripts, one request each: (the one to make unreadable, the readable one)."""
    bad, good = transcript("a-bad"), transcript("b-good")
    bad.write_bytes(line(assistant(1, session="a-bad")))
    good.write_bytes(line(assistant(2, session="b-good")))
    return bad, good


def assert_recovers(ledger: Ledger, bad: Path) -> None:
    """Once readable again, the file is read and its error cleared."""
    summary = run_sync(ledger)
    assert summary.errors == []
    assert counts(ledger) == standard(2)
    assert (stored(ledger, bad).error, stored(ledger, bad).records) == ("", 1)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file_is_reported_and_others_still_read(ledger: Ledger) -> None:
    bad, good = write_bad_and_good()
    bad.chmod(0)
    try:
        assert_error_reported_and_others_read(ledger, bad, good)
    finally:
        bad.chmod(0o644)
    assert_recovers(ledger, bad)


def test_read_failure_is_reported_and_others_still_read(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same as the chmod test, runnable as root: opening one file fails."""
    bad, good = write_bad_and_good()
    real_iter = ChunkReader.__iter__

    def failing_iter(reader: ChunkReader) -> Iterator[bytes]:
        if reader.path == str(bad):
            raise PermissionError(13, "Permission denied", reader.path)
        return real_iter(reader)

    with monkeypatch.context() as patch:
        patch.setattr(ChunkReader, "__iter__", failing_iter)
        assert_error_reported_and_others_read(ledger, bad, good)
    assert_recovers(ledger, bad)


def test_dangling_symlink_is_reported_and_others_still_read(ledger: Ledger, tmp_path: Path) -> None:
    dangling, good = transcript("a-dangling"), transcript("b-good")
    dangling.symlink_to(tmp_path / "nowhere.jsonl")
    good.write_bytes(line(assistant(1)))

    summary = run_sync(ledger)
    assert summary.errors == [f"cannot read {dangling}: No such file or directory"]
    assert counts(ledger) == standard(1)
    assert stored(ledger, dangling).error


# -- Codex ---------------------------------------------------------------------------------


def codex_event(second: int, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One rollout line, ``second`` seconds after 10:00:00."""
    return {"timestamp": f"2026-11-20T10:00:{second:02d}.000Z", "type": kind, "payload": payload}


def token_count(second: int, total: tuple[int, int, int, int] | None) -> dict[str, Any]:
    """A token_count event with cumulative (input, cached, output, reasoning); None: info null."""
    if total is None:
        limits = {"primary": {"used_percent": 4.0, "window_minutes": 300, "resets_at": 1795000000}}
        payload = {"type": "token_count", "info": None, "rate_limits": limits}
        return codex_event(second, "event_msg", payload)
    input_tokens, cached, output, reasoning = total
    usage = {
        "input_tokens": input_tokens,
        "cached_input_tokens": cached,
        "output_tokens": output,
        "reasoning_output_tokens": reasoning,
        "total_tokens": input_tokens + output,
    }
    info = {"total_token_usage": usage, "last_token_usage": usage, "model_context_window": 258400}
    return codex_event(second, "event_msg", {"type": "token_count", "info": info})


def rollout() -> Path:
    """The path of a Codex rollout under the test's CODEX_HOME."""
    directory = Path(os.environ["CODEX_HOME"]) / "sessions" / "2026" / "11" / "20"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"rollout-2026-11-20T10-00-00-{CODEX_SESSION}.jsonl"


def test_codex_cumulative_totals_become_deltas_across_syncs(ledger: Ledger) -> None:
    path = rollout()
    path.write_bytes(
        lines(
            codex_event(0, "session_meta", {"id": CODEX_SESSION, "cwd": "/home/dev/proj"}),
            codex_event(1, "turn_context", {"cwd": "/home/dev/proj", "model": "gpt-5.4"}),
            token_count(2, None),
            token_count(3, (1000, 400, 100, 20)),
            token_count(4, (1000, 400, 100, 20)),
            token_count(5, (3000, 1000, 300, 50)),
            token_count(6, (500, 100, 50, 0)),
        )
    )
    # Deltas: (1000, 400, 100), (2000, 600, 200), then a reset counting (500, 100, 50).
    # Input excludes cached: 600 + 1400 + 400; cache reads: 400 + 600 + 100.
    summary = run_sync(ledger)
    assert summary.requests_written == 3
    assert counts(ledger) == Counts(3, 2400, 350, 0, 1100)
    assert [row["model"] for row in build_report(ledger, "model", zone=UTC)["rows"]] == ["gpt-5.4"]
    assert totals(ledger)["cost_usd"] > 0
    assert ledger.db.execute("SELECT COUNT(*) FROM rate_limits").fetchone()[0] == 1
    assert stored(ledger, path).cursor.state["totals"] == [500, 100, 50, 0, 550]

    append(path, line(token_count(7, (4000, 2000, 400, 60))))
    summary = run_sync(ledger)
    # Delta from (500, 100, 50): input 3500 of which 1900 cached, output 350.
    assert summary.requests_written == 1
    assert counts(ledger) == Counts(4, 2400 + 1600, 350 + 350, 0, 1100 + 1900)
    session = build_report(ledger, "session", zone=UTC)["rows"]
    assert [(row["session_id"], row["project"]) for row in session] == [
        (CODEX_SESSION, "/home/dev/proj")
    ]
