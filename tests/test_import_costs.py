"""What a command really loads when it runs, measured in a fresh interpreter.

The import contracts in ``pyproject.toml`` see every import a module could make,
lazy ones included; they cannot see which of those a run actually reaches. Two
promises depend on that: the status line (run after every Claude Code message)
loads nothing it does not need on its way to one printed line, and merely loading
the team package or the command-line grammar never loads psycopg, Textual or the
keyring (each costs tens of milliseconds).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import sys
{body}
print(",".join(sorted({{m.split(".")[0] for m in sys.modules}} & {watched!r})), file=sys.stderr)
"""

STATUSLINE = (
    "import io; sys.stdin = io.TextIOWrapper(io.BytesIO(b'{}'))\n"
    "from tokenbuddy.cli.main import main; main(['statusline'])"
)
TEAM_AND_GRAMMAR = (
    "import tokenbuddy.team, tokenbuddy.cli.team\n"
    "from tokenbuddy.cli.main import build_parser; build_parser()"
)


def modules_loaded(body: str, watched: set[str]) -> set[str]:
    """Which of ``watched`` (top-level names) a fresh interpreter has loaded after ``body``."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body, watched=watched)],
        capture_output=True,
        text=True,
        env=os.environ,
        check=True,
    )
    loaded = result.stderr.strip().rsplit("\n", 1)[-1]
    return {name for name in loaded.split(",") if name}


@pytest.mark.parametrize(
    ("body", "heavy"),
    [
        pytest.param(
            STATUSLINE,
            {"textual", "rich", "sqlite3", "pydantic", "platformdirs", "tomllib", "argparse"}
            | {"json", "orjson", "typing"},
            id="the status line",
        ),
        pytest.param(TEAM_AND_GRAMMAR, {"psycopg", "textual", "keyring"}, id="team and grammar"),
    ],
)
def test_a_run_loads_nothing_heavy(body: str, heavy: set[str], isolated_environment: Path) -> None:
    assert modules_loaded(body, heavy) == set()


GUARD_HOOK = (
    'import io; sys.stdin = io.TextIOWrapper(io.BytesIO(b\'{"session_id": "s",'
    ' "hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {}}\'))\n'
    "from tokenbuddy.cli.guard_hook import run_hook; run_hook()"
)


def test_the_guard_hook_loads_nothing_heavy_on_its_way_to_a_block(
    isolated_environment: Path,
) -> None:
    import time

    import orjson

    from tokenbuddy.store.paths import app_paths

    paths = app_paths()
    now_ms = int(time.time() * 1000)
    paths.status_file.parent.mkdir(parents=True)
    paths.status_file.write_bytes(
        orjson.dumps(
            {
                "version": 1,
                "updated_ms": now_ms,
                "synced_ms": now_ms,
                "cycle_usd": 500.0,
                "guard": {
                    "settings": {"mode": "block", "hard_cap_usd": 400.0},
                    "cycle_ends_ms": now_ms + 86_400_000,
                    "config_file": str(paths.config_file),
                    "config_mtime_ns": 0,
                },
            }
        )
    )
    heavy = {"textual", "rich", "sqlite3", "pydantic", "platformdirs", "tomllib", "argparse"}
    heavy |= {"json", "orjson", "typing", "dataclasses", "signal", "contextlib", "enum"}
    assert modules_loaded(GUARD_HOOK, heavy) == set()
    journal = (paths.state_dir / "guard-journal.jsonl").read_bytes()
    assert b'"decision":"block"' in journal, "the run went all the way to a block"
