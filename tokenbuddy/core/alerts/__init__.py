"""Runaway-spend warnings: incremental detectors over the stream of requests and prompts.

Feed every request (:class:`RequestEvent`) and human prompt (:class:`PromptEvent`)
as it is ingested, and the latest cycle projection when it changes; then call
:meth:`AlertEngine.evaluate` with ``now_ms`` for the alerts to announce and
:meth:`AlertEngine.active` for the ones to list. Pure: no clock, files or env.

One module per detector, each documenting when it fires:

- :mod:`~tokenbuddy.core.alerts.cache_collapse` (per session): cache hit ratios that
  fell through the floor;
- :mod:`~tokenbuddy.core.alerts.spend_spike` (all sessions): a burn rate far above
  the usual one;
- :mod:`~tokenbuddy.core.alerts.unattended_loop` (per session): an agent running long
  with no human prompt;
- :mod:`~tokenbuddy.core.alerts.unattended_spend` (person-wide): sessions, scripted
  ones above all, spending on while nobody types in any;
- :mod:`~tokenbuddy.core.alerts.limits` (global): the monthly cap's trajectory and
  the subscription windows.

:mod:`~tokenbuddy.core.alerts.engine` decides which alerts are news, and
:mod:`~tokenbuddy.core.alerts.thresholds` holds every tunable.
"""

from tokenbuddy.core.alerts.engine import AlertEngine
from tokenbuddy.core.alerts.events import (
    SEVERITY_RANK,
    Alert,
    AlertKind,
    PromptEvent,
    RequestEvent,
    Severity,
    request_event,
)
from tokenbuddy.core.alerts.limits import WindowReading
from tokenbuddy.core.alerts.thresholds import Thresholds

__all__ = [
    "SEVERITY_RANK",
    "Alert",
    "AlertEngine",
    "AlertKind",
    "PromptEvent",
    "RequestEvent",
    "Severity",
    "Thresholds",
    "WindowReading",
    "request_event",
]
