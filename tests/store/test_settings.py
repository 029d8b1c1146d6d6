"""Settings: config.toml, TOKENBUDDY_* overrides, and invalid input that never stops the app."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenbuddy.cli.main import main
from tokenbuddy.store.config_template import config_template, write_template
from tokenbuddy.store.settings import Settings, load_settings


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings, problems = load_settings(tmp_path / "config.toml")
    assert problems == []
    assert settings.monthly_cap_usd is None and settings.cycle_start_day == 1


def test_values_from_the_file_and_environment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('monthly_cap_usd = 300\ncycle_start_day = 15\ntimezone = "Asia/Tokyo"\n')
    settings, problems = load_settings(config)
    assert problems == []
    assert (settings.monthly_cap_usd, settings.cycle_start_day, settings.timezone) == (
        300,
        15,
        "Asia/Tokyo",
    )
    monkeypatch.setenv("TOKENBUDDY_MONTHLY_CAP_USD", "120")
    assert load_settings(config)[0].monthly_cap_usd == 120


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("cycle_start_day = 31\n", "cycle_start_day"),
        ('timezone = "Mars/Olympus"\n', "timezone"),
        ("monthly_cap_usd = -5\n", "monthly_cap_usd"),
        ("monthy_cap_usd = 5\n", "monthy_cap_usd"),
    ],
)
def test_an_invalid_value_names_the_field_and_falls_back_to_defaults(
    tmp_path: Path, content: str, field: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(content)
    settings, problems = load_settings(config)
    assert settings == Settings()
    assert len(problems) == 1 and field in problems[0] and "using the default" in problems[0]


def test_one_bad_value_keeps_every_other_setting_and_names_its_source(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("monthly_cap_usd = 300\nmonthy_cap = 5\n[alerts]\nspike_ratio = -1\n")
    environ = {
        "TOKENBUDDY_BELL": "maybe",
        "TOKENBUDDY_CLAUDE_CONFIG_DIRS": "/logs/a, /logs/b",
        "TOKENBUDDY_ALERTS__LOOP_MIN_MINUTES": "45",
        "TOKENBUDDY_HOME": "/not/a/setting",
    }
    settings, problems = load_settings(config, environ)
    assert settings.monthly_cap_usd == 300, "a typo elsewhere must not cost the cap"
    assert settings.claude_config_dirs == ["/logs/a", "/logs/b"]
    assert settings.thresholds.loop_min_minutes == 45
    assert settings.bell is True and settings.thresholds.spike_ratio == 4.0
    assert len(problems) == 3
    assert any(p.startswith("TOKENBUDDY_BELL: ") for p in problems)
    assert any("config.toml: alerts.spike_ratio" in p for p in problems)
    assert any("config.toml: monthy_cap" in p for p in problems)


def test_a_list_variable_may_be_json(tmp_path: Path) -> None:
    environ = {"TOKENBUDDY_CODEX_HOMES": '["/x", "/y"]'}
    settings, problems = load_settings(tmp_path / "none.toml", environ)
    assert settings.codex_homes == ["/x", "/y"] and problems == []


def test_a_broken_file_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("monthly_cap_usd = = 3\n")
    settings, problems = load_settings(config)
    assert settings == Settings() and "config.toml" in problems[0]


def test_log_dirs_fill_in_only_when_the_variables_are_unset() -> None:
    settings = Settings(claude_config_dirs=["/a", "/b"], codex_homes=["/c"])
    assert settings.log_environment({})["CLAUDE_CONFIG_DIR"] == "/a,/b"
    assert settings.log_environment({"CLAUDE_CONFIG_DIR": "/x"})["CLAUDE_CONFIG_DIR"] == "/x"
    assert settings.log_environment({})["CODEX_HOME"] == "/c"


def test_the_template_is_valid_and_all_commented(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    assert write_template(config)
    assert not write_template(config)
    assert config.read_text() == config_template()
    assert load_settings(config) == (Settings(), [])


def test_config_path_and_show(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "path"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == isolated_environment / "tokenbuddy" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("monthly_cap_usd = 250\n")
    assert main(["config", "show"]) == 0
    assert '"monthly_cap_usd": 250.0' in capsys.readouterr().out
    path.write_text("cycle_start_day = 40\n")
    assert main(["config", "show"]) == 1
    assert "cycle_start_day" in capsys.readouterr().err


def test_config_edit_creates_the_template_and_runs_the_editor(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = isolated_environment / "edited"
    monkeypatch.setenv("EDITOR", f"touch {marker}")
    monkeypatch.delenv("VISUAL", raising=False)
    assert main(["config", "edit"]) == 0
    assert marker.exists()
    assert (isolated_environment / "tokenbuddy" / "config.toml").read_text() == config_template()
