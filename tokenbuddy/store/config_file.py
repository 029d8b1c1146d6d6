"""Reading ``config.toml`` without pydantic, for commands where start-up time matters.

``tokenbuddy report`` and the status line need only the log directories from the
config file; validating every setting would cost them a pydantic import (a
sixth of a second). Values here are checked by hand and ignored when malformed:
the full :func:`tokenbuddy.store.settings.load_settings` reports them.
"""

from __future__ import annotations

import tomllib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


def read_config(config_file: Path) -> dict[str, Any]:
    """The file's TOML table; empty when it is missing or unreadable."""
    try:
        with config_file.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _strings(value: Any) -> list[str]:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return []


def log_environment(
    environ: Mapping[str, str], claude_config_dirs: list[str], codex_homes: list[str]
) -> dict[str, str]:
    """``environ`` with configured log dirs filled in where the variables are unset."""
    merged = dict(environ)
    if claude_config_dirs and not merged.get("CLAUDE_CONFIG_DIR"):
        merged["CLAUDE_CONFIG_DIR"] = ",".join(claude_config_dirs)
    if codex_homes and not merged.get("CODEX_HOME"):
        merged["CODEX_HOME"] = ",".join(codex_homes)
    return merged


def configured_log_environment(config_file: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` plus the log dirs of ``config_file`` (well-formed values only)."""
    values = read_config(config_file)
    return log_environment(
        environ,
        _strings(values.get("claude_config_dirs")),
        _strings(values.get("codex_homes")),
    )


def configured_timezone(config_file: Path, environ: Mapping[str, str]) -> str | None:
    """``TOKENBUDDY_TIMEZONE``, else ``timezone`` from ``config_file``, else None (local)."""
    value = environ.get("TOKENBUDDY_TIMEZONE") or read_config(config_file).get("timezone")
    return value if isinstance(value, str) and value else None
