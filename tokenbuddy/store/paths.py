"""Where tokenbuddy keeps its ledger, config, cache and state.

By default these follow the platform's conventions (platformdirs). Setting
``TOKENBUDDY_HOME`` puts all three under one directory instead, which tests
and people who like one folder both use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tokenbuddy.errors import ConfigError

APP_NAME = "tokenbuddy"
HOME_ENV = "TOKENBUDDY_HOME"


@dataclass(frozen=True, slots=True)
class AppPaths:
    """The directories tokenbuddy writes to."""

    data_dir: Path
    config_dir: Path
    cache_dir: Path
    state_dir: Path
    """Logs and small state files (the status line's error log, its previous setting)."""

    @property
    def ledger(self) -> Path:
        """The SQLite ledger."""
        return self.data_dir / "ledger.sqlite3"

    @property
    def status_file(self) -> Path:
        """The compact snapshot the status line reads."""
        return self.cache_dir / "status.json"

    @property
    def statusline_log(self) -> Path:
        """Where the status line writes what went wrong (it never prints errors)."""
        return self.state_dir / "statusline.log"

    @property
    def config_file(self) -> Path:
        """The TOML config file (it may not exist)."""
        return self.config_dir / "config.toml"

    def ensure(self) -> None:
        """Create the directories, with a clear error when that is impossible."""
        for directory in (self.data_dir, self.config_dir, self.cache_dir, self.state_dir):
            try:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as error:
                raise ConfigError(f"cannot create {directory}: {error.strerror}") from error


def app_paths(environ: dict[str, str] | os._Environ[str] | None = None) -> AppPaths:
    """The directories for this environment (``TOKENBUDDY_HOME`` wins)."""
    env = os.environ if environ is None else environ
    home = env.get(HOME_ENV, "").strip()
    if home:
        root = Path(home).expanduser()
        return AppPaths(root / "data", root, root / "cache", root / "state")
    import platformdirs

    return AppPaths(
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)),
    )
