"""Running a parser three ways: typed structs over whole buffers, structs line by line,
and a full parse of every line (the reference the struct paths must agree with)."""

from __future__ import annotations

import copy
from types import ModuleType
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest


def three_ways(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, run: Callable[[], Any]
) -> tuple[Any, Any, Any]:
    """``run()`` as is, with ``module``'s whole-buffer decoder failing, then with its
    line decoder failing too."""

    def undecodable(data: Any) -> Any:
        raise msgspec.DecodeError("as if the buffer or line were malformed")

    whole = run()
    with monkeypatch.context() as patch:
        patch.setattr(module, "_decode_lines", undecodable)
        by_line = run()
        patch.setattr(module, "_decode_line", undecodable)
        reference = run()
    return whole, by_line, reference


def with_value(line: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``line`` with the field at ``path`` set to ``value``."""
    changed = copy.deepcopy(line)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def without(line: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """A deep copy of ``line`` without the field at ``path``."""
    changed = copy.deepcopy(line)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target.pop(path[-1], None)
    return changed
