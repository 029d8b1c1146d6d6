"""Announced alerts: the last announcement of each alert, replaced by the next one."""

from __future__ import annotations

from pathlib import Path

from tokenbuddy.store.announcements import Announcement, last_announcement, record_announcement
from tokenbuddy.store.ledger import Ledger


def test_the_last_announcement_of_an_alert_is_kept_per_session(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        assert last_announcement(ledger, "spike", "s1") is None
        record_announcement(ledger, "spike", "s1", Announcement("warning", 2.5, 1000))
        record_announcement(ledger, "spike", "", Announcement("critical", 1.0, 2000))
        record_announcement(ledger, "spike", "s1", Announcement("critical", 4.0, 3000))
    with Ledger(path) as reopened:
        assert last_announcement(reopened, "spike", "s1") == Announcement("critical", 4.0, 3000)
        assert last_announcement(reopened, "spike", "") == Announcement("critical", 1.0, 2000)
        assert last_announcement(reopened, "cap", "s1") is None
