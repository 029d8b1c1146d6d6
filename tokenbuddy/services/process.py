"""How tokenbuddy's own processes end.

Imports only ``sys`` at module level: the status line's fast path ends through here.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: importing typing costs the status line 2-5 ms
if TYPE_CHECKING:
    from typing import NoReturn


def exit_without_teardown(code: int) -> NoReturn:
    """End the process once the exit handlers have run and the output is flushed,
    without tearing its modules down one object at a time.

    After a report, freeing the price database's objects alone takes ~30 ms, for
    nothing: everything the commands write is committed and closed before they
    return. With other threads still running (none of the one-shot commands leaves
    any), the process exits as usual.
    """
    threading = sys.modules.get("threading")  # not imported: no other thread can exist
    if threading is not None and threading.active_count() > 1:
        sys.exit(code)
    import atexit
    import contextlib
    import os

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except (OSError, ValueError):  # a closed pipe: what the interpreter's own exit reports
        code = code or 120
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)
