"""User settings: ``config.toml`` in the config dir, overridden by ``TOKENBUDDY_*`` variables.

An invalid file or value never stops tokenbuddy: :func:`load_settings` returns
the defaults together with messages that name the offending field.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tokenbuddy.core.alerts import Thresholds
from tokenbuddy.core.units import DAY_S, HOUR_S
from tokenbuddy.store.config_file import log_environment

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


def _threshold_fields() -> dict[str, Any]:
    hints = typing.get_type_hints(Thresholds)
    return {
        field.name: (hints[field.name], Field(default=field.default, gt=0))
        for field in dataclasses.fields(Thresholds)
    }


AlertSettings: type[BaseModel] = create_model(
    "AlertSettings",
    __config__=ConfigDict(extra="forbid"),
    **_threshold_fields(),
)
"""The ``[alerts]`` table: :class:`~tokenbuddy.core.alerts.Thresholds`, validated."""


STATUSLINE_SEGMENTS = (
    "session",
    "today",
    "burn",
    "cap",
    "cache",
    "five_hour",
    "seven_day",
    "warning",
    "guard",
    "model",
    "context",
    "duration",
    "git",
    "lines",
)
"""Every segment the status line can show, in the default order."""
OPTIONAL_SEGMENTS = frozenset({"seven_day", "model", "context", "duration", "git", "lines"})
"""Segments shown only when ``[statusline] segments`` names them."""


class StatuslineSettings(BaseModel):
    """The ``[statusline]`` table: what ``tokenbuddy statusline`` prints and how."""

    model_config = ConfigDict(extra="forbid")

    segments: list[str] = Field(
        default_factory=lambda: [s for s in STATUSLINE_SEGMENTS if s not in OPTIONAL_SEGMENTS]
    )
    """Which segments, in order (any of STATUSLINE_SEGMENTS)."""
    separator: str = " · "
    prefix: str = "⚡ "
    color: bool = True
    """ANSI colours (``--no-color`` and ``NO_COLOR`` turn them off too)."""

    @field_validator("segments")
    @classmethod
    def _known_segments(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in STATUSLINE_SEGMENTS]
        if unknown:
            raise ValueError(
                f"unknown segment(s) {', '.join(unknown)}; use {', '.join(STATUSLINE_SEGMENTS)}"
            )
        return value


VENDOR_SOURCE_NAMES = ("claude", "anthropic", "openai", "cursor", "cursor-team")


class VendorSettings(BaseModel):
    """The ``[vendors]`` table: how often the vendor endpoints are polled (never secrets)."""

    model_config = ConfigDict(extra="forbid")

    poll_seconds: float = Field(default=300, ge=60, le=DAY_S)
    """Interval between two polls of one vendor source."""
    subscription_poll_seconds: float = Field(default=60, ge=30, le=HOUR_S)
    """Interval for Claude subscription utilisation while an agent is active."""
    history_days: int = Field(default=30, ge=1, le=90)
    """Days of billed usage and costs pulled on the first poll."""
    disabled: list[str] = Field(default_factory=list)
    """Sources never polled even when a credential exists."""
    cursor_team_id: int = Field(default=0, ge=0)
    """The Cursor dashboard team id (0: your own usage)."""

    @field_validator("disabled")
    @classmethod
    def _known_sources(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in VENDOR_SOURCE_NAMES]
        if unknown:
            raise ValueError(
                f"unknown source(s) {', '.join(unknown)}; use {', '.join(VENDOR_SOURCE_NAMES)}"
            )
        return value


class TeamSettings(BaseModel):
    """The ``[team]`` table: optional team sync (the DSN lives in the keyring only)."""

    model_config = ConfigDict(extra="forbid")

    sync: bool = True
    """Push daily aggregates while this machine has joined a team; false pauses it."""
    share_project_names: bool = False
    """Also send each project's folder name (never its path); off by default."""
    soft_limit_usd: float | None = Field(default=None, gt=0)
    """Your monthly soft limit, published to the team (it alerts, never cuts off)."""
    sync_minutes: float = Field(default=15, ge=1, le=1440)
    """Interval between two background syncs of the dashboard."""
    history_days: int = Field(default=62, ge=1, le=400)
    """Days back that are compared with the server and re-sent when they changed."""
    allow_insecure: bool = False
    """Allow a non-loopback server without TLS (sslmode=require or stronger otherwise)."""
    connect_timeout_seconds: float = Field(default=10, ge=1, le=120)
    """How long a connection attempt may take before sync backs off."""


class GuardSettings(BaseModel):
    """The ``[guard]`` table: whether Claude Code's hooks stop a runaway, and on what.

    ``tokenbuddy guard --install`` adds the hooks; these settings decide what they do.
    Every limit is optional, and nothing is stopped unless ``mode = "block"``.
    """

    model_config = ConfigDict(extra="forbid")

    mode: Literal["off", "warn", "block"] = "off"
    """off: the hooks do nothing; warn: they tell the person (never stop anything);
    block: they stop the tool call or prompt and say why."""
    hard_cap_usd: float | None = Field(default=None, gt=0)
    """Spend in the budget cycle at which every Claude Code session is stopped."""
    daily_cap_usd: float | None = Field(default=None, gt=0)
    """Spend in one local day at which every Claude Code session is stopped."""
    scripted_session_limit_usd: float | None = Field(default=None, gt=0)
    """Spend at which one scripted session (``claude -p``, the Agent SDK) is stopped."""
    block_on_critical: bool = True
    """A critical runaway warning stops the sessions it involves (and the person-wide
    unattended loop stops scripted sessions)."""


class Settings(BaseSettings):
    """Everything the user can configure."""

    model_config = SettingsConfigDict(env_prefix="TOKENBUDDY_", extra="forbid")

    monthly_cap_usd: float | None = Field(default=None, gt=0)
    """Monthly budget in US dollars; None means no cap."""
    soft_limit_ratio: float = Field(default=0.8, gt=0, le=1)
    """Share of the cap at which tokenbuddy starts warning."""
    cycle_start_day: int = Field(default=1, ge=1, le=28)
    """Day of the month the budget cycle starts on."""
    timezone: str | None = None
    """IANA time zone for days and cycles; the machine's zone when None."""
    claude_config_dirs: list[str] = Field(default_factory=list)
    """Claude Code config dirs to read instead of the defaults."""
    codex_homes: list[str] = Field(default_factory=list)
    """Codex homes to read instead of the default."""
    refresh_seconds: float = Field(default=0.25, ge=0.05, le=10)
    """Longest a burst of new log lines waits before the dashboard repaints."""
    rescan_seconds: float = Field(default=30.0, ge=2, le=HOUR_S)
    """Interval of the safety re-scan of every log file."""
    bell: bool = True
    """Ring the terminal bell on a critical warning."""
    desktop_notifications: bool = True
    """Send a desktop notification on a critical warning, where one is available."""
    alerts: AlertSettings = Field(default_factory=AlertSettings)  # type: ignore[valid-type]
    """Thresholds of the runaway-spend detectors."""
    statusline: StatuslineSettings = Field(default_factory=StatuslineSettings)
    """What the Claude Code status line shows."""
    vendors: VendorSettings = Field(default_factory=VendorSettings)
    """Polling of the vendor usage endpoints (credentials live in the keyring only)."""
    team: TeamSettings = Field(default_factory=TeamSettings)
    """Optional team sync of daily aggregates to PostgreSQL."""
    guard: GuardSettings = Field(default_factory=GuardSettings)
    """What Claude Code's hooks stop (off until asked for)."""

    @property
    def thresholds(self) -> Thresholds:
        """The ``[alerts]`` table as the detectors take it."""
        alerts: BaseModel = self.alerts
        return Thresholds(**alerts.model_dump())

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values :func:`load_settings` passes in: it reads the TOML file and the
        ``TOKENBUDDY_*`` variables itself, so each bad value can be traced and dropped."""
        return (init_settings,)

    def log_environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """``environ`` with the configured log dirs filled in where the variables are unset."""
        return log_environment(environ, self.claude_config_dirs, self.codex_homes)


ENV_PREFIX = "TOKENBUDDY_"
NESTED_DELIMITER = "__"
"""``TOKENBUDDY_ALERTS__SPIKE_RATIO=5`` sets ``spike_ratio`` in the ``[alerts]`` table."""
MAX_REPAIRS = 20


def environment_values(environ: Mapping[str, str]) -> dict[str, tuple[str, Any]]:
    """``TOKENBUDDY_<KEY>`` and ``TOKENBUDDY_<TABLE>__<KEY>`` variables naming a setting, as
    dotted key -> (variable, value). Other ``TOKENBUDDY_*`` variables (HOME...) are not settings.
    """
    tables = {
        name: field.annotation
        for name, field in Settings.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }
    found: dict[str, tuple[str, Any]] = {}
    for variable, raw in environ.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        name = variable[len(ENV_PREFIX) :].lower()
        table, _, key = name.partition(NESTED_DELIMITER)
        if key and table in tables and key in tables[table].model_fields:
            found[f"{table}.{key}"] = (variable, _env_value(tables[table], key, raw))
        elif not key and name in Settings.model_fields and name not in tables:
            found[name] = (variable, _env_value(Settings, name, raw))
    return found


def _env_value(model: type[BaseModel], key: str, raw: str) -> Any:
    """A list setting from a JSON list or a comma-separated string; anything else as is."""
    annotation = str(model.model_fields[key].annotation)
    if not annotation.startswith("list"):
        return raw
    text = raw.strip()
    if text.startswith("["):
        import json

        try:
            return json.loads(text)
        except ValueError:
            return raw
    return [part.strip() for part in text.split(",") if part.strip()]


def load_settings(
    config_file: Path, environ: Mapping[str, str] | None = None
) -> tuple[Settings, list[str]]:
    """The settings, and a message for each invalid value (that one value is ignored).

    Values come from ``config_file`` and, overriding it, ``TOKENBUDDY_*`` variables;
    a bad value is reported with where it came from and replaced by its default,
    so one typo never costs the user their other settings (their cap, say).
    """
    import os

    problems: list[str] = []
    values: dict[str, Any] = {}
    try:
        with config_file.open("rb") as handle:
            values = tomllib.load(handle)
    except FileNotFoundError:
        pass
    except (OSError, tomllib.TOMLDecodeError) as error:
        problems.append(f"{config_file}: {error}; using the defaults")
    origins: dict[str, str] = {}
    for dotted, (variable, value) in environment_values(
        os.environ if environ is None else environ
    ).items():
        _put(values, dotted, value)
        origins[dotted] = variable
    for _ in range(MAX_REPAIRS):
        try:
            return Settings(**values), problems
        except ValidationError as error:
            problems.extend(_repair(values, error, config_file, origins))
    return Settings.model_construct(), problems


def _put(values: dict[str, Any], dotted: str, value: Any) -> None:
    table, _, key = dotted.partition(".")
    if key:
        section = values.setdefault(table, {})
        if isinstance(section, dict):
            section[key] = value
    else:
        values[table] = value


def _repair(
    values: dict[str, Any], error: ValidationError, config_file: Path, origins: dict[str, str]
) -> list[str]:
    """Drop each invalid value (its default applies) and say where it came from."""
    messages = []
    for problem in error.errors():
        loc = [str(part) for part in problem["loc"]][:2]
        dotted = ".".join(loc) or "(file)"
        source = origins.get(dotted) or origins.get(loc[0] if loc else "") or f"{config_file}"
        where = source if source.startswith(ENV_PREFIX) else f"{config_file}: {dotted}"
        messages.append(f"{where}: {problem['msg']}; using the default")
        _drop(values, loc)
    return messages


def _drop(values: dict[str, Any], loc: list[str]) -> None:
    if not loc:
        values.clear()
        return
    if len(loc) == 2 and isinstance(values.get(loc[0]), dict):
        values[loc[0]].pop(loc[1], None)
        if not values[loc[0]]:
            values.pop(loc[0])
        return
    values.pop(loc[0], None)
