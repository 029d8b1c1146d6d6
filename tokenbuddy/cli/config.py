"""``tokenbuddy config path|show|edit``: find, inspect and change the settings file."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys

import orjson

from tokenbuddy.errors import ConfigError
from tokenbuddy.store.config_template import write_template
from tokenbuddy.store.paths import app_paths
from tokenbuddy.store.settings import Settings, load_settings


def run_config(args: argparse.Namespace) -> int:
    """Dispatch the ``config`` sub-command."""
    paths = app_paths()
    if args.action == "path":
        print(paths.config_file)
        return 0
    if args.action == "show":
        settings, problems = load_settings(paths.config_file)
        for problem in problems:
            print(f"tokenbuddy: {problem}", file=sys.stderr)
        state = "" if paths.config_file.exists() else "  (no file yet: these are the defaults)"
        print(f"# {paths.config_file}{state}", file=sys.stderr)
        values = settings.model_dump()
        sys.stdout.write(orjson.dumps(values, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 1 if problems else 0
    return _edit(paths.config_file)


def user_settings() -> Settings:
    """The user's settings; what is wrong with them is said on stderr (defaults stand in)."""
    settings, problems = load_settings(app_paths().config_file)
    for problem in problems:
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    return settings


def _edit(config_file: object) -> int:
    from pathlib import Path

    path = Path(str(config_file))
    if write_template(path):
        print(f"created {path} with every setting commented out")
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        status = subprocess.call([*shlex.split(editor), str(path)])
    except OSError as error:
        raise ConfigError(f"cannot start the editor {editor!r}: {error.strerror}") from error
    _, problems = load_settings(path)
    for problem in problems:
        print(f"tokenbuddy: {problem}", file=sys.stderr)
    return status or (1 if problems else 0)
