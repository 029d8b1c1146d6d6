"""``tokenbuddy guard --install`` / ``--uninstall`` on Claude Code's settings.json."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.cli.test_guard_hook import wait_for_background_refresh
from tests.cli.test_statusline import claude_settings
from tokenbuddy.cli.guard_install import install, installed_events, uninstall
from tokenbuddy.cli.main import main
from tokenbuddy.errors import ConfigError
from tokenbuddy.store.paths import app_paths

THEIRS: dict[str, Any] = {
    "model": "sonnet",
    "permissions": {"allow": ["Bash(npm test)"]},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "~/bin/no-rm.sh"}]}
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "say done"}]}],
    },
}


def read(path: Path) -> dict[str, Any]:
    return orjson.loads(path.read_bytes())  # type: ignore[no-any-return]


def test_install_adds_both_hooks_beside_every_other_and_uninstall_restores_the_file(
    isolated_environment: Path,
) -> None:
    paths = app_paths()
    path = claude_settings(isolated_environment, THEIRS)
    message = install(path, paths)
    assert "PreToolUse, UserPromptSubmit hooks" in message and "backup:" in message
    settings = read(path)
    assert {k: v for k, v in settings.items() if k != "hooks"} == {
        k: v for k, v in THEIRS.items() if k != "hooks"
    }
    pre = settings["hooks"]["PreToolUse"]
    assert pre[0] == THEIRS["hooks"]["PreToolUse"][0], "their PreToolUse hook stays first"
    assert pre[1]["matcher"] == "*" and "tokenbuddy.cli.guard_hook" in pre[1]["hooks"][0]["command"]
    assert pre[1]["hooks"][0]["type"] == "command"
    (prompt,) = settings["hooks"]["UserPromptSubmit"]
    assert "matcher" not in prompt
    assert settings["hooks"]["Stop"] == THEIRS["hooks"]["Stop"]
    assert installed_events(settings) == ["PreToolUse", "UserPromptSubmit"]
    assert list(path.parent.glob("settings.json.tokenbuddy-backup-*"))
    assert "already installed" in install(path, paths)
    assert "uninstalled" in uninstall(path, paths)
    assert read(path) == THEIRS
    assert "not installed" in uninstall(path, paths)


def test_uninstall_keeps_what_the_user_changed_since(isolated_environment: Path) -> None:
    paths = app_paths()
    path = claude_settings(isolated_environment, {"theme": "dark"})
    install(path, paths)
    settings = read(path)
    settings["hooks"]["UserPromptSubmit"][0]["hooks"].append(
        {"type": "command", "command": "~/bin/log-prompt.sh"}
    )
    settings["hooks"]["PostToolUse"] = [{"hooks": [{"type": "command", "command": "fmt"}]}]
    settings["model"] = "opus"
    path.write_bytes(orjson.dumps(settings))
    uninstall(path, paths)
    assert read(path) == {
        "theme": "dark",
        "model": "opus",
        "hooks": {
            "UserPromptSubmit": [
                {"hooks": [{"type": "command", "command": "~/bin/log-prompt.sh"}]}
            ],
            "PostToolUse": [{"hooks": [{"type": "command", "command": "fmt"}]}],
        },
    }


def test_the_installed_command_runs_in_a_shell_as_claude_code_runs_it(
    isolated_environment: Path,
) -> None:
    path = claude_settings(isolated_environment, None)
    install(path, app_paths())
    command = read(path)["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    shell = subprocess.run(
        command, shell=True, input=b'{"hook_event_name": "PreToolUse", "session_id": "s"}',
        capture_output=True, env=os.environ, timeout=20, check=False,
    )  # fmt: skip
    assert (shell.returncode, shell.stdout, shell.stderr) == (0, b"", b"")
    assert "no figures yet" in (app_paths().state_dir / "guard.log").read_text()
    wait_for_background_refresh()


def test_a_config_dir_that_does_not_exist_is_refused(isolated_environment: Path) -> None:
    path = isolated_environment / "nowhere" / "settings.json"
    with pytest.raises(ConfigError, match=r"does not exist.*CLAUDE_CONFIG_DIR"):
        install(path, app_paths())
    assert not path.parent.exists()


@pytest.mark.parametrize(
    "content", ['{"hooks": [1]}', '{"hooks": {"PreToolUse": {}}}', '{"model": "sonnet",,}']
)
def test_settings_it_cannot_merge_into_are_refused_untouched(
    isolated_environment: Path, content: str
) -> None:
    path = claude_settings(isolated_environment, None)
    path.write_text(content)
    with pytest.raises(ConfigError, match="fix it first"):
        install(path, app_paths())
    assert path.read_text() == content


def test_install_from_the_command_line_honours_claude_config_dir(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = isolated_environment / "work-claude"
    work.mkdir()
    os.environ["CLAUDE_CONFIG_DIR"] = f"{work},{isolated_environment / 'other'}"
    assert main(["guard", "--install"]) == 0
    out = capsys.readouterr().out
    assert f"in {work / 'settings.json'}" in out
    assert "names 1 more dir(s); only the first was changed" in out
    assert 'the guard is off: set mode = "block"' in out
    assert installed_events(read(work / "settings.json")) == ["PreToolUse", "UserPromptSubmit"]
    assert main(["guard", "--uninstall"]) == 0
    assert read(work / "settings.json") == {}
    os.environ["CLAUDE_CONFIG_DIR"] = str(isolated_environment / "missing")
    assert main(["guard", "--install"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_a_note_when_claude_code_runs_no_hooks(isolated_environment: Path) -> None:
    path = claude_settings(isolated_environment, {"disableAllHooks": True})
    assert '"disableAllHooks" is true' in install(path, app_paths())
