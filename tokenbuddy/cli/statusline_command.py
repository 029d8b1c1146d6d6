"""``tokenbuddy statusline`` through argparse: ``--install``, ``--uninstall``, ``--refresh``.

The line itself (no options but ``--no-color``) skips argparse and runs
:func:`tokenbuddy.cli.statusline.run_fast` directly; this module is only for the rest.
"""

from __future__ import annotations

import os
from typing import Any

from tokenbuddy.cli.statusline import run_fast


def run_statusline(args: Any) -> int:
    """The argparse route: ``--install``, ``--uninstall``, ``--refresh``, or the line itself."""
    if args.refresh:
        from tokenbuddy.services.statusline_refresh import run_refresh

        return run_refresh(args.refresh, every_root=args.all)
    if args.install or args.uninstall:
        from pathlib import Path

        from tokenbuddy.cli.statusline_install import (
            install,
            other_dirs_note,
            settings_file,
            uninstall,
        )
        from tokenbuddy.store.paths import app_paths

        paths = app_paths()
        paths.ensure()
        target = settings_file(os.environ, Path.home())
        done = (
            uninstall(target, paths) if args.uninstall else install(target, paths, force=args.force)
        )
        print(done)
        note = other_dirs_note(os.environ)
        if note:
            print(note)
        return 0
    return run_fast(["--no-color"] if args.no_color else [])
