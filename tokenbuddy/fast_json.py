"""JSON in and out for the fast paths (the status line, the guard hook), without :mod:`json`.

Importing :mod:`json` compiles regular expressions, a third of the status line's time
budget; orjson is a compiled extension that costs more to load than these short runs
spend. Both directions go straight to CPython's C accelerator (``_json``) instead, and
fall back to :mod:`json` on an interpreter without it. A shared bottom module like
:mod:`tokenbuddy.clock`: it imports nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs the fast paths 2-5 ms
if TYPE_CHECKING:
    from typing import Any


class _ScannerContext:
    """The settings the C scanner reads from a decoder (the standard ones)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float
    memo: dict[str, str] = {}  # noqa: RUF012 - the scanner's shared string cache


def parse_json(text: str) -> Any:
    """Parse one JSON document with the C scanner (no regular-expression compile)."""
    try:
        from _json import make_scanner
    except ImportError:  # an interpreter without CPython's accelerator
        import json

        return json.loads(text)

    start = len(text) - len(text.lstrip())
    try:
        value, end = make_scanner(_ScannerContext())(text, start)  # type: ignore[arg-type]
    except StopIteration as stop:  # how the C scanner says "no JSON value here"
        raise ValueError(f"not JSON (at character {stop.value})") from None
    except SystemError:
        # Past the first value the scanner raises json.decoder's error, which it looks up
        # among the modules already imported: without json loaded it fails this way.
        raise ValueError(_why_not_json(text)) from None
    if text[end:].strip():
        raise ValueError("extra data after the JSON value")
    return value


def _why_not_json(text: str) -> str:
    """What is wrong with ``text``, as :mod:`json` words it (loaded only on this error
    path, never on a good run)."""
    import json

    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return f"not JSON ({error.msg} at line {error.lineno} column {error.colno})"
    return "not JSON (malformed or cut short)"


def dump_json(value: Any) -> str:
    """``value`` (dicts, lists, strings, numbers, booleans, None) as compact ASCII JSON.

    Non-finite floats become ``null``, and anything else raises :class:`TypeError`.
    """
    try:
        from _json import encode_basestring_ascii as quote
    except ImportError:  # an interpreter without CPython's accelerator
        import json

        return json.dumps(value, separators=(",", ":"))
    return _dump(value, quote)


def _dump(value: Any, quote: Any) -> str:
    if value is None or value is True or value is False:
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, str):
        return str(quote(value))
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value) if value - value == 0 else "null"
    if isinstance(value, dict):
        items = (f"{quote(str(key))}:{_dump(item, quote)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_dump(item, quote) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
