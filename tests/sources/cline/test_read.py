"""One task's messages read into requests: each version's shape, each extension's token
meaning, the models, projects, subtasks, prompts and the usage summaries."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.sources.cline import files
from tests.sources.cline.files import BASE_TS, CLINE, CWD, KILO, ROO, said, started, usage
from tokenbuddy.core.records import CLINE as SOURCE
from tokenbuddy.core.records import ParseStats, PromptMark, SkipReason, UsageRecord
from tokenbuddy.sources import cline
from tokenbuddy.sources.cline import task
from tokenbuddy.sources.documents import DocumentRead

T = BASE_TS


def read(path: Path, state: dict[str, object] | None = None) -> tuple[DocumentRead, ParseStats]:
    stats = ParseStats()
    return cline.read(str(path), dict(state or {}), stats), stats


def counts(record: UsageRecord) -> tuple[int, int, int, int]:
    return (
        record.input_tokens,
        record.output_tokens,
        record.cache_write_5m_tokens,
        record.cache_read_tokens,
    )


def test_cline_3_requests_by_provider_with_models_projects_and_prompts(tmp_path: Path) -> None:
    directory = files.task_dir(tmp_path, CLINE, "1772360000000")
    files.write_metadata(
        directory, (T, "anthropic/claude-sonnet-4.5", "openrouter"), (T + 50, "gpt-5.1", "openai")
    )
    first = usage(40, 900, 12_000, 0, 0.06, request=files.environment())
    path = files.write_messages(
        directory,
        [
            said(T, "task", "fix the tests"),
            started(T + 10, first),
            said(T + 20, "text", "on it"),
            said(T + 30, "user_feedback", "use pytest"),
            # OpenAI Compatible: tokensIn is prompt_tokens, the cached part inside it.
            started(T + 60, usage(10_000, 300, 0, 8_000, 0.01)),
            started(T + 70, usage(0, 0, cancelReason="user_cancelled")),
            files.with_model(started(T + 80, usage(5, 70, 0, 12_000)), "claude-opus-4-1", "cline"),
            said(T + 90, "api_req_started", "{broken"),
            started(T + 95, {"request": "<task>...</task>"}),  # still streaming
        ],
    )
    found, stats = read(path)
    assert [(r.ts_ms, r.model, counts(r), r.reported_cost_usd) for r in found.records] == [
        (T + 10, "claude-sonnet-4.5", (40, 900, 12_000, 0), 0.06),
        (T + 60, "gpt-5.1", (2_000, 300, 0, 8_000), 0.01),
        (T + 80, "claude-opus-4-1", (5, 70, 0, 12_000), None),
    ]
    record = found.records[0]
    assert record.dedup_key == "cline:1772360000000:1772360000010"
    assert (record.source, record.session_id, record.project) == (SOURCE, directory.name, CWD)
    assert (record.entrypoint, record.is_sidechain) == ("cline", False)
    assert found.prompts == [
        PromptMark(SOURCE, directory.name, T),
        PromptMark(SOURCE, directory.name, T + 30),
    ]
    assert stats.lines == 9
    assert stats.skipped == {task.BAD_REQUEST_TEXT: 1}
    assert stats.notes == {task.ABORTED: 1, task.STREAMING: 1}


def test_roo_and_kilo_follow_api_protocol_and_subtasks_are_subagent_work(tmp_path: Path) -> None:
    parent = files.task_dir(tmp_path, ROO, "parent-task")
    files.write_history_item(parent, "/home/dev/roo")
    path = files.write_messages(
        parent,
        [
            said(T, "task", "plan the release"),
            started(T + 1, usage(10_000, 100, 1_000, 8_000, 0.02, apiProtocol="openai")),
            started(T + 2, usage(30, 100, 1_000, 8_000, 0.02, apiProtocol="anthropic")),
            said(T + 3, "condense_context", contextCondense={"cost": 0.03}),
        ],
    )
    found, stats = read(path)
    assert [counts(r) for r in found.records] == [
        (1_000, 100, 1_000, 8_000),
        (30, 100, 1_000, 8_000),
    ]
    assert {(r.model, r.project, r.entrypoint) for r in found.records} == {
        ("", "/home/dev/roo", "roo-code")
    }
    assert stats.notes == {task.NO_MODEL: 2, task.CONDENSE_UNCOUNTED: 1}

    child = files.task_dir(tmp_path, KILO, "child-task")
    files.write_history_item(child, "/home/dev/roo", parent="parent-task")
    path = files.write_messages(
        child,
        [
            said(T + 5, "task", "run the tests"),  # written by the parent task
            started(T + 6, usage(20, 10, apiProtocol="anthropic")),
            said(T + 7, "user_feedback", "stop"),
        ],
    )
    found, _stats = read(path)
    [record] = found.records
    assert (record.session_id, record.is_sidechain, record.agent_id, record.agent_type) == (
        "parent-task",
        True,
        "child-task",
        task.SUBTASK,
    )
    assert record.entrypoint == "kilo-code"
    assert found.prompts == [PromptMark(SOURCE, "parent-task", T + 7)]


def test_without_protocol_or_provider_the_counts_tell(tmp_path: Path) -> None:
    directory = files.task_dir(tmp_path, CLINE, "t")
    path = files.write_messages(
        directory,
        [
            started(T + 1, usage(12, 100, 2_000, 30_000)),  # Anthropic: tokensIn is uncached
            started(T + 2, usage(50_000, 100, 0, 30_000)),  # prompt_tokens: holds the cache
        ],
    )
    found, _stats = read(path)
    assert [counts(r) for r in found.records] == [
        (12, 100, 2_000, 30_000),
        (20_000, 100, 0, 30_000),
    ]


def test_claude_dev_1_usage_in_api_req_finished(tmp_path: Path) -> None:
    directory = files.task_dir(tmp_path, CLINE, "old")
    path = files.write_messages(
        directory,
        [
            started(T + 1, {"request": files.environment("/srv/legacy")}),
            said(T + 2, "api_req_finished", '{"tokensIn":100,"tokensOut":50,"cost":0.001}'),
        ],
        name="claude_messages.json",
    )
    assert cline.find(tmp_path, []) == [str(path)]
    found, _stats = read(path)
    [record] = found.records
    assert (record.ts_ms, counts(record), record.project) == (T + 1, (100, 50, 0, 0), "/srv/legacy")
    assert record.reported_cost_usd == 0.001


def test_deleted_requests_are_counted_once(tmp_path: Path) -> None:
    """A checkpoint restore deletes requests and sums them in ``deleted_api_reqs``: counted
    from that sum only when no earlier read saw them."""
    directory = files.task_dir(tmp_path, CLINE, "t")
    files.write_metadata(directory, (T, "claude-sonnet-4-5", "anthropic"))
    kept = started(T + 1, usage(10, 100))
    deleted = [started(T + 2, usage(20, 200)), started(T + 3, usage(30, 300))]
    summary = said(T + 9, "deleted_api_reqs", '{"tokensIn":50,"tokensOut":500,"cost":0.2}')
    path = files.write_messages(directory, [kept, *deleted])
    before, _stats = read(path)
    files.write_messages(directory, [kept, summary])
    after, stats = read(path, before.state)
    assert [r.ts_ms for r in after.records] == [T + 1]
    assert stats.notes == {task.DELETED_REPEATED: 1}
    again, _stats = read(path, after.state)  # the decision holds on later reads
    assert [r.ts_ms for r in again.records] == [T + 1]

    first_sight, stats = read(path)
    assert [(r.dedup_key, counts(r)) for r in first_sight.records] == [
        ("cline:t:1772360000001", (10, 100, 0, 0)),
        ("cline:t:1772360000009:deleted", (50, 500, 0, 0)),
    ]
    assert stats.notes == {task.DELETED_COUNTED: 1}


def test_subagent_usage_is_one_subagent_request(tmp_path: Path) -> None:
    directory = files.task_dir(tmp_path, CLINE, "t")
    text = '{"source":"subagents","tokensIn":7,"tokensOut":70,"cacheWrites":0,"cacheReads":700}'
    path = files.write_messages(directory, [said(T + 4, "subagent_usage", text, partial=False)])
    [record] = read(path)[0].records
    assert (record.dedup_key, record.is_sidechain, record.agent_type) == (
        "cline:t:1772360000004:subagents",
        True,
        task.SUBAGENT,
    )
    assert counts(record) == (7, 70, 0, 700)


def test_broken_documents_are_counted_skips_and_keep_the_state(tmp_path: Path) -> None:
    directory = files.task_dir(tmp_path, CLINE, "t")
    path = files.write_messages(directory, [started(T + 1, usage(10, 100))])
    state = {"calls": [T + 1], "deleted": {}}
    path.write_bytes(path.read_bytes()[:-7])
    found, stats = read(path, state)
    assert (found.records, found.state, stats.skipped) == ([], state, {SkipReason.INVALID_JSON: 1})
    path.write_bytes(b'{"not": "a list"}')
    found, stats = read(path, state)
    assert (found.records, found.state, stats.skipped) == ([], state, {task.NOT_A_LIST: 1})
    path.write_bytes(b'[1, {"ts": "soon", "say": "api_req_started", "text": "{}"}, {"say": "x"}]')
    found, stats = read(path)
    assert stats.skipped == {SkipReason.NOT_AN_OBJECT: 1, SkipReason.NO_TIMESTAMP: 1}
    path.write_bytes(orjson.dumps([started(T + 1, {"tokensIn": "many", "tokensOut": 3})]))
    found, stats = read(path)
    assert (found.records, stats.skipped) == ([], {SkipReason.BAD_USAGE: 1})


def test_roo_and_kilo_requests_are_priced_at_the_model_their_environment_names(
    tmp_path: Path,
) -> None:
    directory = files.task_dir(tmp_path, ROO, "roo-models")
    sonnet, mini, unknown = (
        files.roo_environment(name)
        for name in ("anthropic/claude-sonnet-4.5", "gpt-5-mini", "unknown")
    )
    path = files.write_messages(
        directory,
        [
            said(T, "task", "fix the tests"),
            started(T + 1, usage(30, 100, apiProtocol="anthropic")),  # before any text
            started(T + 2, usage(30, 100, request=sonnet, apiProtocol="anthropic")),
            started(T + 3, usage(40, 10, apiProtocol="anthropic")),  # no text: the last model
            started(T + 4, usage(50, 20, request=mini, apiProtocol="openai")),
            started(T + 5, usage(60, 30, request=unknown, apiProtocol="openai")),
        ],
    )
    found, stats = read(path)
    assert [(r.ts_ms, r.model) for r in found.records] == [
        (T + 1, ""),
        (T + 2, "claude-sonnet-4.5"),
        (T + 3, "claude-sonnet-4.5"),
        (T + 4, "gpt-5-mini"),
        (T + 5, "gpt-5-mini"),
    ]
    assert found.records[1].project == CWD
    assert stats.notes == {task.NO_MODEL: 1}


def test_deepseek_cache_misses_reported_as_cache_writes_are_input(tmp_path: Path) -> None:
    directory = files.task_dir(tmp_path, CLINE, "deepseek-task")
    reasoner = files.roo_environment("deepseek-reasoner")
    # Cline's DeepSeek handler: tokensIn is prompt_tokens less hits and misses (so 0), the
    # misses in cacheWrites; Roo's: tokensIn is prompt_tokens, misses in cacheWrites, hits
    # in cacheReads. Anthropic through Cline keeps its real cache writes.
    cline_deepseek = started(T + 1, usage(0, 300, 2_000, 9_000))
    roo_deepseek = started(
        T + 2, usage(11_000, 300, 2_000, 9_000, request=reasoner, apiProtocol="openai")
    )
    anthropic = started(T + 3, usage(10, 300, 2_000, 9_000))
    path = files.write_messages(
        directory,
        [
            files.with_model(cline_deepseek, "deepseek-chat", "deepseek"),
            roo_deepseek,
            files.with_model(anthropic, "claude-sonnet-4-5", "anthropic"),
        ],
    )
    found, _stats = read(path)
    assert [counts(r) for r in found.records] == [
        (2_000, 300, 0, 9_000),
        (2_000, 300, 0, 9_000),
        (10, 300, 2_000, 9_000),
    ]
