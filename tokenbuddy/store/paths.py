"""Where tokenbuddy keeps its ledger, config and cache.

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
    """The three directories tokenbuddy writes to."""

    data_dir: Path
    config_dir: Path
    cache_dir: Path

    @property
    def ledger(self) -> Path:
        """The SQLite ledger."""
        return self.data_dir / "ledger.sqlite3"

    @property
    def config_file(self) -> Path:
        """The TOML config file (it may not exist)."""
        return self.config_dir / "config.toml"

    def ensure(self) -> None:
        """Create the directories, with a clear error when that is impossible."""
        for directory in (self.data_dir, self.config_dir, self.cache_dir):
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
        return AppPaths(root / "data", root, root / "cache")
    import platformdirs

    return AppPaths(
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
    )
