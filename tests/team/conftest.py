"""A real PostgreSQL server for the team tests, and a fresh database per test.

Where the server comes from, in order:

1. ``TOKENBUDDY_TEST_PG_DSN``: a superuser (or CREATEDB + CREATEROLE) DSN; ``.ci/run``
   exports one for the cluster it starts.
2. A throwaway cluster this session starts itself when ``initdb`` and ``pg_ctl`` are
   installed (``apt-get install postgresql``), as an unprivileged user when root.
3. Otherwise the tests skip and say how to provide one; with
   ``TOKENBUDDY_TEST_PG_REQUIRED=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.team.pgserver import ThrowawayCluster, find_bin_dir
from tokenbuddy.core.file_cursor import FileCursor
from tokenbuddy.core.records import CLAUDE_CODE, UsageRecord
from tokenbuddy.services.team_sync import SyncOptions
from tokenbuddy.store.ledger import FileResult, Ledger, request_row
from tokenbuddy.team.schema import NewMember

DSN_ENV = "TOKENBUDDY_TEST_PG_DSN"
REQUIRED_ENV = "TOKENBUDDY_TEST_PG_REQUIRED"
HOW_TO = (
    f"no PostgreSQL server for the team tests: set {DSN_ENV}=postgresql://USER:PASSWORD@HOST:PORT/"
    "postgres (a superuser, or a role with CREATEDB and CREATEROLE), or install PostgreSQL"
    " (apt-get install postgresql / brew install postgresql) so the tests can start a"
    " throwaway cluster; .ci/run does this for you"
)
UTC_ZONE = ZoneInfo("UTC")
TODAY = date(2026, 11, 20)
NOW_MS = int(datetime.combine(TODAY, time(15, 0), UTC).timestamp() * 1000)


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRED_ENV):
        pytest.fail(f"{reason} ({REQUIRED_ENV} is set, so this is an error)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    """A superuser DSN to a running server, or a skip naming how to provide one."""
    try:
        import psycopg
    except ImportError:
        _unavailable("psycopg is not installed: pip install -e '.[test]'")
    configured = os.environ.get(DSN_ENV, "").strip()
    if configured:
        _check_reachable(psycopg, configured)
        yield configured
        return
    cluster = _start_cluster()
    try:
        yield cluster.dsn
    finally:
        cluster.stop()


def _check_reachable(psycopg: Any, dsn: str) -> None:
    try:
        psycopg.connect(dsn, connect_timeout=10).close()
    except psycopg.Error as error:
        pytest.fail(f"{DSN_ENV} is set but the server is unusable: {error}", pytrace=False)


def _start_cluster() -> ThrowawayCluster:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        _unavailable(HOW_TO)
    assert bin_dir is not None
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _unavailable(f"running as root without runuser to drop privileges; {HOW_TO}")
    cluster = ThrowawayCluster(bin_dir)
    try:
        cluster.start()
    except (RuntimeError, OSError) as error:
        log = cluster.log_tail()
        cluster.stop()
        _unavailable(f"could not start a throwaway cluster ({error}) {log}; {HOW_TO}")
    return cluster


@dataclass
class TeamDatabase:
    """A fresh database on the test server, and the member roles created in it."""

    server_dsn: str
    name: str
    roles: list[str] = field(default_factory=list)

    @property
    def admin_dsn(self) -> str:
        from psycopg.conninfo import make_conninfo

        return str(make_conninfo(self.server_dsn, dbname=self.name))

    def add_member(self, name: str, **options: Any) -> tuple[str, str]:
        """Create a member (name made unique in the cluster); returns (role, member DSN)."""
        from tokenbuddy.team.admin import add_member

        role = f"{name}_{secrets.token_hex(3)}"
        self.roles.append(role)
        dsn = add_member(self.admin_dsn, NewMember(role, **options), allow_insecure=False)
        return role, dsn

    def admin(self) -> Any:
        import psycopg

        return psycopg.connect(self.admin_dsn, autocommit=True)


@pytest.fixture
def team_db(pg_admin_dsn: str) -> Iterator[TeamDatabase]:
    """A new empty database, dropped (with its member roles) after the test."""
    import psycopg

    database = TeamDatabase(pg_admin_dsn, f"tbtest_{uuid.uuid4().hex[:12]}")
    with psycopg.connect(pg_admin_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database.name}"')
    yield database
    with psycopg.connect(pg_admin_dsn, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
        for role in database.roles:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def initialised(team_db: TeamDatabase) -> TeamDatabase:
    """``team_db`` with the latest schema."""
    from tokenbuddy.team.admin import migrate

    with team_db.admin() as connection:
        migrate(connection)
    return team_db


class Machine:
    """One member's machine: its own ledger and team sync state."""

    def __init__(self, root: Path, dsn: str, **options: Any) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.ledger_path = root / "ledger.sqlite3"
        self.options = SyncOptions(
            ledger_path=self.ledger_path,
            state_path=root / "team.sqlite3",
            zone=UTC_ZONE,
            dsn=dsn,
            **options,
        )
        Ledger(self.ledger_path).close()

    def add(self, day: date, hour: int, *, model: str = "claude-sonnet-4-5", output: int = 100,
            cost: float = 1.0, project: str = "/home/dev/secret-project") -> None:  # fmt: skip
        """Record one request on ``day`` at ``hour`` UTC, costing ``cost``."""
        ts_ms = int(datetime.combine(day, time(hour, 7), UTC).timestamp() * 1000)
        record = UsageRecord(
            uuid.uuid4().hex, CLAUDE_CODE, ts_ms, "session-1", project, model,
            10, output, 100, 0, 1000, 0, 0, "", "", False, "", "",
        )  # fmt: skip
        cursor = FileCursor(f"/logs/{uuid.uuid4().hex}.jsonl", CLAUDE_CODE, offset=1, inode=1)
        result = FileResult(cursor, [request_row(record, cost)], [], 1, {}, {}, False, None)
        with Ledger(self.ledger_path) as ledger:
            ledger.commit_files([result])
            ledger.refresh_rollup()

    def sync(self, **kwargs: Any) -> Any:
        from tokenbuddy.services.team_sync import sync_once

        kwargs.setdefault("now_ms", NOW_MS)
        kwargs.setdefault("force", True)
        return sync_once(self.options, **kwargs)

    def local_cost(self) -> float:
        with sqlite3.connect(self.ledger_path) as db:
            return float(db.execute("SELECT TOTAL(cost_usd) FROM requests").fetchone()[0])


@pytest.fixture
def machine_factory(tmp_path: Path) -> Any:
    """Make machines: ``machine_factory(dsn, name)``."""

    def make(dsn: str, name: str, **options: Any) -> Machine:
        return Machine(tmp_path / "machines" / name, dsn, **options)

    return make
