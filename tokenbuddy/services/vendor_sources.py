"""Each vendor source's state as ``tokenbuddy sources`` shows it, and the reconciliation of
the local estimate with what the vendors billed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokenbuddy.services.session import open_session
from tokenbuddy.services.vendor_poll import credentials
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.paths import app_paths
from tokenbuddy.store.vendors import VENDOR_SOURCES, reconciliation, source_states

if TYPE_CHECKING:
    from collections.abc import Callable

    from tokenbuddy.services.vendor_poll import Credential
    from tokenbuddy.store.settings import VendorSettings
    from tokenbuddy.store.vendors import Reconciliation, SourceState


def source_entries(settings: VendorSettings, now_ms: int) -> list[dict[str, Any]]:
    """Every vendor source: its stored polling state, and whether a credential is set now."""
    found, problems, _ = credentials(list(VENDOR_SOURCES))
    paths = app_paths()
    paths.ensure()
    with Ledger(paths.ledger) as ledger:
        states = source_states(ledger)
    return [
        _source_entry(s, found[s.provider], problems.get(s.provider, ""), settings, now_ms)
        for s in states
    ]


def _source_entry(
    state: SourceState,
    credential: Credential | None,
    problem: str,
    settings: VendorSettings,
    now_ms: int,
) -> dict[str, Any]:
    """One source as shown: the stored state plus whether a credential is configured now."""
    entry = state.as_dict()
    entry["configured"] = credential is not None
    entry["credential_from"] = credential.origin if credential else None
    entry["credential_error"] = problem
    entry["enabled"] = state.provider not in settings.disabled
    entry["age_s"] = (now_ms - state.last_success_ms) // 1000 if state.last_success_ms else None
    if not entry["enabled"]:
        entry["status"] = "disabled"
    elif credential is None and state.status == "never polled":
        entry["status"] = "credential unreadable" if problem else "not configured"
    return entry


def reconcile(
    since_ms: int | None,
    until_ms: int | None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Reconciliation:
    """Bring the ledger up to date, then set the local estimate against the billed costs
    per UTC day, provider and model."""
    session = open_session(progress=progress)
    with session.ledger:
        return reconciliation(session.ledger, since_ms, until_ms)
