"""The status line's segments from Claude Code's own input: model, context window,
duration, git branch and lines changed."""

from __future__ import annotations

from pathlib import Path

from tokenbuddy.cli.statusline_render import git_branch, render

SAMPLE = {
    "session_id": "s1",
    "model": {"id": "claude-sonnet-4-20250514", "display_name": "Sonnet 4"},
    "cost": {"total_duration_ms": 3_900_000, "total_lines_added": 12, "total_lines_removed": 3},
    "context_window": {"total_input_tokens": 42500, "context_window_size": 200000},
}


def line(stdin: dict[str, object], *segments: str) -> str:
    status = {"version": 1, "statusline": {"segments": list(segments), "prefix": ""}}
    return render(stdin, status, color=False, now_ms=0)


def test_model_context_duration_and_lines() -> None:
    assert line(SAMPLE, "model", "context", "duration", "lines") == (
        "Sonnet 4 · ctx 21% · 1h05m · +12 -3"
    )


def test_the_context_prefers_claude_code_s_percentage_then_the_current_usage() -> None:
    current = {
        "context_window_size": 200000,
        "current_usage": {"input_tokens": 10, "cache_read_input_tokens": 99990},
    }
    assert line({"context_window": current}, "context") == "ctx 50%"
    assert line({"context_window": {**current, "used_percentage": 7}}, "context") == "ctx 7%"


def test_segments_without_their_input_are_left_out() -> None:
    assert line({"session_id": "s1"}, "model", "context", "duration", "lines", "git") == ""


def test_the_git_branch_comes_from_head(tmp_path: Path) -> None:
    repo = tmp_path / "shop"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/feature/cart\n")
    (repo / "src" / "deep").mkdir(parents=True)
    assert git_branch(str(repo / "src" / "deep")) == "feature/cart"
    stdin = {"workspace": {"current_dir": str(repo / "src")}}
    assert line(stdin, "git") == "⎇ feature/cart"
    (repo / ".git" / "HEAD").write_text("0123456789abcdef0123456789abcdef01234567\n")
    assert git_branch(str(repo)) == "0123456"


def test_a_worktree_s_git_file_points_at_its_head(tmp_path: Path) -> None:
    git_dir = tmp_path / "main" / ".git" / "worktrees" / "wt"
    git_dir.mkdir(parents=True)
    (git_dir / "HEAD").write_text("ref: refs/heads/issue-19\n")
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {git_dir}\n")
    assert git_branch(str(worktree)) == "issue-19"


def test_outside_a_repository_there_is_no_branch(tmp_path: Path) -> None:
    assert git_branch(str(tmp_path)) is None
    (tmp_path / ".git").write_text("not a pointer\n")
    assert git_branch(str(tmp_path)) is None
