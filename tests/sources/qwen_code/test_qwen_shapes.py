"""Qwen Code record shapes off the common path: runtime snapshot model ids, and
records whose ``type``, ``subtype`` or ``provenance`` are not strings."""

from __future__ import annotations

from pathlib import Path

from tests.sources.qwen_code.files import Session, usage
from tokenbuddy.core.records import ParseStats, SkipReason, UsageRecord
from tokenbuddy.sources import qwen_code

CWD = "/home/dev/svc"
SESSION = "0e11a0b1-0000-4000-8000-000000000003"


def read(session: Session) -> tuple[list[UsageRecord], int, ParseStats]:
    stats = ParseStats()
    parser = qwen_code.open_session(str(session.path), {}, stats)
    parser.feed_chunk(session.path.read_bytes())
    return parser.records, len(parser.prompts), stats


def test_a_runtime_snapshot_model_id_is_priced_as_its_model(tmp_path: Path) -> None:
    """Qwen Code names a model picked at runtime ``$runtime|<auth type>|<model id>``
    (``runtimeModelPrefix.ts``), nested prefixes included."""
    session = Session(tmp_path, SESSION, CWD)
    session.assistant("2025-12-01T09:00:20.000Z", "$runtime|openai|qwen3-coder-plus",
                      usage(1_000, 10))  # fmt: skip
    session.assistant("2025-12-01T09:00:30.000Z", "$runtime|openai|$runtime|openai|Qwen3-Max",
                      usage(2_000, 20))  # fmt: skip
    session.assistant("2025-12-01T09:00:40.000Z", "$runtime|openai|openrouter/qwen/qwen3-32b",
                      usage(3_000, 30))  # fmt: skip
    records, _prompts, _stats = read(session)
    assert [r.model for r in records] == ["qwen3-coder-plus", "qwen3-max", "qwen3-32b"]


def test_records_with_non_string_type_fields_are_skipped_not_fatal(tmp_path: Path) -> None:
    session = Session(tmp_path, SESSION, CWD)
    session.record(["assistant"], "2025-12-01T09:00:00.000Z", usageMetadata=usage(5, 5))  # type: ignore[arg-type]
    session.user("2025-12-01T09:00:01.000Z", subtype=["cron"])
    session.user("2025-12-01T09:00:02.000Z", provenance={"kind": "system"})
    session.user("2025-12-01T09:00:03.000Z")
    session.assistant("2025-12-01T09:00:20.000Z", "qwen3-coder-plus", usage(1_000, 10))
    records, prompts, stats = read(session)
    assert [(r.input_tokens, r.output_tokens) for r in records] == [(1_000, 10)]
    assert prompts == 2  # the typed prompt, and the one whose provenance names nothing known
    assert stats.skipped == {SkipReason.UNKNOWN_TYPE: 1}
