"""A session's row names the agent wherever its model does not."""

from __future__ import annotations

import pytest

from tokenbuddy.core.dashboard import SessionSummary
from tokenbuddy.tui.widgets.sessions import session_cells


def summary(source: str, *models: str) -> SessionSummary:
    return SessionSummary(
        "s1", source, "shop", "/home/dev/shop", models, 1.5, 3, 0.5, 0.0, 0, 60_000, False
    )


@pytest.mark.parametrize(
    ("source", "models", "shown"),
    [
        ("claude-code", ("claude-sonnet-4-5-20250929",), "sonnet-4-5"),
        ("codex", ("gpt-5.4",), "gpt-5.4"),
        ("copilot", ("claude-sonnet-4.5",), "Copilot · sonnet-4.5"),
        (
            "gemini-cli",
            ("gemini-2.5-pro", "gemini-2.5-flash"),
            "Gemini · gemini-2.5-pro, gemini-2.5-flash",
        ),
        ("cline", ("",), "Cline · (model not recorded)"),
        ("cursor-local", ("gpt-5",), "Cursor · gpt-5"),
    ],
)
def test_the_model_cell_names_agents_that_run_every_vendor_s_models(
    source: str, models: tuple[str, ...], shown: str
) -> None:
    assert session_cells(summary(source, *models), 120_000)[1].plain == shown
