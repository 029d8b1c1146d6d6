"""Team sync against a real PostgreSQL server: schema, roles, RLS, sync, cuts, migrations."""

from __future__ import annotations

import contextlib
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import orjson
import pytest

from tests.conftest import MemoryKeyring
from tests.team.conftest import NOW_MS, UTC_ZONE, Machine, TeamDatabase
from tests.team.proxy import CuttingProxy
from tokenbuddy.cli.main import main
from tokenbuddy.errors import TeamPermissionError, TeamSchemaError
from tokenbuddy.team import _driver
from tokenbuddy.team.admin import migrate, schema_version
from tokenbuddy.team.overview import load_team_overview
from tokenbuddy.team.schema import LATEST
from tokenbuddy.team.state import SyncState

psycopg = pytest.importorskip("psycopg")

NOV = [date(2026, 11, day) for day in range(1, 21)]


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def server_rows(team_db: TeamDatabase, role: str) -> set[tuple[Any, ...]]:
    with team_db.admin() as admin:
        rows = admin.execute(
            "SELECT machine_id::text, day, source, model, project, input_tokens, output_tokens,"
            " cost_usd::float8, requests FROM tokenbuddy.daily_usage WHERE member = %s",
            (role,),
        ).fetchall()
    return set(rows)


def server_cost(team_db: TeamDatabase, role: str | None = None) -> float:
    with team_db.admin() as admin:
        row = admin.execute(
            "SELECT COALESCE(sum(cost_usd), 0)::float8 FROM tokenbuddy.daily_usage"
            " WHERE %s::text IS NULL OR member = %s",
            (role, role),
        ).fetchone()
    return float(row[0])


# -- init and members ---------------------------------------------------------------------


def test_init_migrates_once_and_print_sql_builds_the_same_schema(team_db: TeamDatabase) -> None:
    code, out, _ = run_cli("team", "init", team_db.admin_dsn, "--budget", "500")
    assert code == 0 and f"from version 0 to {LATEST}" in out
    code, out, _ = run_cli("team", "init", team_db.admin_dsn)
    assert code == 0 and f"already at version {LATEST}" in out

    code, script, _ = run_cli("team", "init", "--print-sql")
    assert code == 0 and script.startswith("BEGIN;") and "ENABLE ROW LEVEL SECURITY" in script
    with team_db.admin() as admin:
        admin.execute("CREATE SCHEMA scratch")  # the printed script must run as-is elsewhere
        admin.execute("DROP SCHEMA tokenbuddy CASCADE")
        admin.execute(script)
        assert schema_version(admin) == LATEST


def test_add_member_prints_a_working_dsn_last_and_join_stores_it(
    initialised: TeamDatabase, memory_keyring: MemoryKeyring
) -> None:
    role = "ana_" + initialised.name[-6:]
    initialised.roles.append(role)
    code, out, _ = run_cli("team", "add-member", initialised.admin_dsn, role, "--soft-limit", "50")
    assert code == 0
    dsn = out.strip().splitlines()[-1]
    assert dsn.startswith("postgresql://") and role in dsn

    code, out, _ = run_cli("team", "join", dsn, "--alias", "Ana")
    assert code == 0 and "as Ana" in out
    assert memory_keyring.secrets[("tokenbuddy", "team-dsn")] == dsn
    with initialised.admin() as admin:
        alias, limit = admin.execute(
            "SELECT alias, soft_limit_usd FROM tokenbuddy.members WHERE role_name = %s", (role,)
        ).fetchone()
    assert (alias, float(limit)) == ("Ana", 50.0)

    wrong = _driver.parse_dsn(dsn) | {"password": "not-the-password"}
    with pytest.raises(TeamPermissionError):
        _driver.connect(_driver.to_uri(wrong), allow_insecure=False)

    code, out, _ = run_cli("team", "leave")
    assert code == 0 and ("tokenbuddy", "team-dsn") not in memory_keyring.secrets


def test_remove_member_revokes_access_and_deletes_or_keeps_the_rows(
    initialised: TeamDatabase, machine_factory: Any
) -> None:
    """A member who leaves the team: gone with their rows, or only locked out."""
    gone, gone_dsn = initialised.add_member("gone")
    kept, kept_dsn = initialised.add_member("kept", alias="Kim")
    stays, stays_dsn = initialised.add_member("stays")
    for name, dsn in ((gone, gone_dsn), (kept, kept_dsn), (stays, stays_dsn)):
        machine = machine_factory(dsn, f"{name}-laptop")
        for day in NOV[:3]:
            machine.add(day, 1, cost=2.0)
        assert machine.sync().ok
    before = server_cost(initialised)

    code, out, _ = run_cli("team", "remove-member", initialised.admin_dsn, gone)
    assert code == 0 and f"removed {gone}" in out and "3 day(s)" in out
    code, out, _ = run_cli("team", "remove-member", initialised.admin_dsn, kept, "--keep-usage")
    assert code == 0 and "stay in the team's totals" in out

    with pytest.raises(TeamPermissionError):
        _driver.connect(gone_dsn, allow_insecure=False)
    with pytest.raises(TeamPermissionError):
        _driver.connect(kept_dsn, allow_insecure=False)
    with initialised.admin() as admin:
        roles = {r[0] for r in admin.execute("SELECT rolname FROM pg_roles").fetchall()}
        members = {r[0] for r in admin.execute("SELECT role_name FROM tokenbuddy.members")}
    assert gone not in roles and kept in roles
    assert members == {kept, stays}
    assert server_rows(initialised, gone) == set()
    assert server_cost(initialised) == pytest.approx(before - 6.0)
    overview = load_team_overview(stays_dsn, now_ms=NOW_MS, zone=UTC_ZONE)
    assert "Kim" in {m.alias for m in overview.members}

    code, _, err = run_cli("team", "remove-member", initialised.admin_dsn, gone)
    assert code == 1 and "is not a member" in err
    code, out, _ = run_cli("team", "remove-member", "unused", "some_name", "--print-sql")
    assert code == 0 and 'DROP ROLE IF EXISTS "some_name"' in out and "DELETE FROM" in out


ODD_ALIASES = ["O'Brien", "back\\slash \\' end", 'say "hi"', "Zoë 🚀 日本", "\\\\n"]
"""Aliases that hand-written quoting gets wrong: quotes, backslashes, non-ASCII."""


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_odd_aliases_round_trip_whatever_standard_conforming_strings_says(
    initialised: TeamDatabase, conforming: str
) -> None:
    with initialised.admin() as admin:
        admin.execute(
            f'ALTER DATABASE "{initialised.name}" SET standard_conforming_strings = {conforming}'
        )
    for number, alias in enumerate(ODD_ALIASES):
        role, dsn = initialised.add_member(f"odd{number}", alias=alias)
        with initialised.admin() as admin:
            setting = admin.execute("SHOW standard_conforming_strings").fetchone()[0]
            stored = admin.execute(
                "SELECT alias FROM tokenbuddy.members WHERE role_name = %s", (role,)
            ).fetchone()[0]
        assert (setting, stored) == (conforming, alias)
        with _driver.connect(dsn, allow_insecure=False) as connection:
            assert connection.execute("SELECT current_user").fetchone()[0] == role


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_print_sql_runs_as_printed_whatever_standard_conforming_strings_says(
    initialised: TeamDatabase, conforming: str
) -> None:
    role = f"printed_{conforming}"
    initialised.roles.append(role)
    alias = "it's \\ Zoë"
    code, script, _ = run_cli(
        "team", "add-member", initialised.admin_dsn, role, "--alias", alias, "--print-sql"
    )
    assert code == 0
    script = script.replace('"<database>"', f'"{initialised.name}"')
    with initialised.admin() as admin:
        admin.execute(f"SET standard_conforming_strings = {conforming}")
        admin.execute(script.encode())
        stored = admin.execute(
            "SELECT alias FROM tokenbuddy.members WHERE role_name = %s", (role,)
        ).fetchone()[0]
    assert stored == alias


def test_the_password_reaches_the_server_only_as_libpq_s_scram_verifier(
    initialised: TeamDatabase,
) -> None:
    role, dsn = initialised.add_member("scram")
    password = _driver.parse_dsn(dsn)["password"]
    with initialised.admin() as admin:
        stored = admin.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)
        ).fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$4096:")
    assert password not in stored


def test_reset_password_gives_a_new_dsn_and_the_old_one_stops_working(
    initialised: TeamDatabase,
) -> None:
    role, old_dsn = initialised.add_member("forgetful")
    code, out, _ = run_cli("team", "reset-password", initialised.admin_dsn, role)
    assert code == 0
    new_dsn = out.strip().splitlines()[-1]
    assert new_dsn != old_dsn and role in new_dsn
    with pytest.raises(TeamPermissionError):
        _driver.connect(old_dsn, allow_insecure=False)
    with _driver.connect(new_dsn, allow_insecure=False) as connection:
        assert connection.execute("SELECT current_user").fetchone()[0] == role
    # A member locked out with --keep-usage gets access back with a new password.
    assert run_cli("team", "remove-member", initialised.admin_dsn, role, "--keep-usage")[0] == 0
    with initialised.admin() as admin:
        admin.execute(f'REVOKE CONNECT ON DATABASE "{initialised.name}" FROM PUBLIC')
    code, out, _ = run_cli("team", "reset-password", initialised.admin_dsn, role)
    assert code == 0
    with _driver.connect(out.strip().splitlines()[-1], allow_insecure=False) as connection:
        assert connection.execute("SELECT current_user").fetchone()[0] == role


def test_a_role_that_is_not_a_member_cannot_join_or_read(initialised: TeamDatabase) -> None:
    outsider = "outsider_" + initialised.name[-6:]
    initialised.roles.append(outsider)
    with initialised.admin() as admin:
        admin.execute(f"CREATE ROLE {outsider} LOGIN PASSWORD 'pw' IN ROLE tokenbuddy_member")
    params = _driver.parse_dsn(initialised.admin_dsn) | {"user": outsider, "password": "pw"}
    code, _, err = run_cli("team", "join", _driver.to_uri(params), "--alias", "x")
    assert code == 1 and "not a member" in err
    with psycopg.connect(_driver.to_uri(params)) as connection:
        assert connection.execute("SELECT * FROM tokenbuddy.team_members").fetchall() == []


# -- row-level security -------------------------------------------------------------------


def test_rls_refuses_writes_to_another_members_rows(
    initialised: TeamDatabase, machine_factory: Any
) -> None:
    alice, alice_dsn = initialised.add_member("alice")
    _, bob_dsn = initialised.add_member("bob")
    machine = machine_factory(alice_dsn, "alice-laptop")
    machine.add(NOV[3], 10, cost=4.0)
    assert machine.sync().status == "synced"
    machine_id = next(iter(server_rows(initialised, alice)))[0]

    with psycopg.connect(bob_dsn, autocommit=True) as bob:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            bob.execute(
                "INSERT INTO tokenbuddy.daily_usage (member, machine_id, day, source, model,"
                " input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd,"
                " requests) VALUES (%s, %s, '2026-11-04', 'claude-code', 'm', 0, 0, 0, 0, 99, 1)",
                (alice, machine_id),
            )
        assert bob.execute("UPDATE tokenbuddy.daily_usage SET cost_usd = 0").rowcount == 0
        assert bob.execute("DELETE FROM tokenbuddy.daily_usage").rowcount == 0
        assert bob.execute("DELETE FROM tokenbuddy.machines").rowcount == 0
        assert bob.execute("SELECT * FROM tokenbuddy.daily_usage").fetchall() == []
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("UPDATE tokenbuddy.members SET team_lead = true")
        assert bob.execute("UPDATE tokenbuddy.members SET alias = 'x' WHERE role_name = %s",
                           (alice,)).rowcount == 0  # fmt: skip
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bob.execute("INSERT INTO tokenbuddy.members (role_name) VALUES ('mallory')")
        team = bob.execute("SELECT * FROM tokenbuddy.team_member_days").fetchall()
        columns = [c.name for c in bob.execute("SELECT * FROM tokenbuddy.team_members").description]
    assert len(team) == 1 and float(team[0][-2]) == 4.0  # the team view: sums, by reference
    assert "role_name" not in columns and "machine_id" not in columns
    assert server_cost(initialised, alice) == 4.0


# -- sync ---------------------------------------------------------------------------------


def test_two_members_on_two_machines_each_sync_concurrently(
    initialised: TeamDatabase, machine_factory: Any
) -> None:
    alice, alice_dsn = initialised.add_member("alice")
    bob, bob_dsn = initialised.add_member("bob")
    machines = [
        machine_factory(dsn, f"{name}-{n}", batch_days=3)
        for name, dsn in (("alice", alice_dsn), ("bob", bob_dsn))
        for n in (1, 2)
    ]
    for round_number in range(3):
        for index, machine in enumerate(machines):
            for day in NOV[round_number * 5 : round_number * 5 + 8]:
                machine.add(day, index + round_number, cost=0.5 + index, model=f"model-{index % 2}")
        with ThreadPoolExecutor(max_workers=8) as pool:
            reports = list(pool.map(lambda m: m.sync(), machines + machines))
        assert all(report.ok for report in reports), [r.error for r in reports]

    assert server_cost(initialised, alice) == pytest.approx(
        machines[0].local_cost() + machines[1].local_cost()
    )
    assert server_cost(initialised, bob) == pytest.approx(
        machines[2].local_cost() + machines[3].local_cost()
    )
    assert {row[0] for row in server_rows(initialised, alice)} != {
        row[0] for row in server_rows(initialised, bob)
    }
    overview = load_team_overview(alice_dsn, now_ms=NOW_MS, zone=UTC_ZONE)
    assert overview.totals.cost_usd == pytest.approx(sum(m.local_cost() for m in machines))
    assert sum(m.totals.cost_usd for m in overview.members) == pytest.approx(
        overview.totals.cost_usd
    )


def test_resync_after_late_rows_replaces_the_day_instead_of_adding(
    initialised: TeamDatabase, machine_factory: Any
) -> None:
    alice, dsn = initialised.add_member("alice")
    machine = machine_factory(dsn, "laptop")
    for day in NOV[:5]:
        machine.add(day, 9, cost=2.0)
    assert machine.sync().days_sent == 5
    assert machine.sync().status == "up_to_date"

    machine.add(NOV[1], 23, cost=3.0)  # a late log lands in an old day
    machine.add(NOV[1], 23, cost=1.0, model="claude-opus-4-1")
    report = machine.sync()
    assert (report.status, report.days_sent, report.rows_sent) == ("synced", 1, 2)
    assert server_cost(initialised, alice) == pytest.approx(machine.local_cost()) == 14.0

    before = server_rows(initialised, alice)
    with SyncState(machine.options.state_path) as state:
        state.forget_pushed()
    assert machine.sync().days_sent == 5
    assert server_rows(initialised, alice) == before


def test_a_connection_cut_mid_sync_leaves_the_old_or_the_new_state_never_a_mix(
    initialised: TeamDatabase, machine_factory: Any
) -> None:
    alice, dsn = initialised.add_member("alice")
    machine = machine_factory(dsn, "laptop")
    for day in NOV[:6]:
        machine.add(day, 8, cost=1.0)
    assert machine.sync().ok
    old_state = server_rows(initialised, alice)
    for day in NOV[2:6]:
        machine.add(day, 12, cost=2.5)
        machine.add(day, 13, cost=0.25, model="claude-haiku-4-5")

    params = _driver.parse_dsn(dsn)
    seen, outcomes, limit = [], [], 150
    while True:
        proxy = CuttingProxy(int(params["port"]), limit)
        proxied = _driver.to_uri(params | {"host": "127.0.0.1", "port": str(proxy.port)})
        report = _sync_via(machine, proxied)
        proxy.close()
        seen.append(server_rows(initialised, alice))
        outcomes.append(report.status)
        if report.ok:
            break
        assert proxy.cut, report.error
        limit += 150
        assert limit < 60_000, "the sync never completed"
    new_state = seen[-1]
    assert new_state != old_state
    assert all(state in (old_state, new_state) for state in seen)
    assert outcomes.count("failed") >= 10  # cuts landed all along the sync
    assert server_cost(initialised, alice) == pytest.approx(machine.local_cost())
    assert _sync_via(machine, dsn).ok  # another address of the server: sent again, same state
    assert server_rows(initialised, alice) == new_state


def _sync_via(machine: Machine, dsn: str) -> Any:
    from dataclasses import replace

    from tokenbuddy.services.team_sync import sync_once

    return sync_once(replace(machine.options, dsn=dsn), now_ms=NOW_MS, force=True)


def test_failures_back_off_with_jitter_and_recover(
    initialised: TeamDatabase, machine_factory: Any
) -> None:
    _, dsn = initialised.add_member("alice")
    params = _driver.parse_dsn(dsn)
    proxy = CuttingProxy(int(params["port"]), limit=0)
    offline = _driver.to_uri(params | {"host": "127.0.0.1", "port": str(proxy.port)})
    machine = machine_factory(offline, "laptop", timeout_s=2)
    machine.add(NOV[0], 9)
    first = machine.sync(force=False, jitter=lambda: 0.0)
    assert first.status == "failed" and first.next_attempt_ms == NOW_MS + 15_000
    waiting = machine.sync(force=False, now_ms=NOW_MS + 1000)
    assert waiting.status == "waiting"
    second = machine.sync(force=False, now_ms=NOW_MS + 20_000, jitter=lambda: 0.0)
    assert second.next_attempt_ms == NOW_MS + 20_000 + 30_000
    proxy.close()
    recovered = _sync_via(machine, dsn)
    assert recovered.status == "synced"
    with SyncState(machine.options.state_path) as state:
        assert state.retry().failures == 0


def test_project_names_leave_only_when_opted_in_and_never_as_paths(
    initialised: TeamDatabase, machine_factory: Any
) -> None:
    alice, dsn = initialised.add_member("alice")
    private = machine_factory(dsn, "private")
    private.add(NOV[0], 9)
    private.sync()
    sharing = machine_factory(dsn, "sharing", share_projects=True)
    sharing.add(NOV[0], 9)
    sharing.sync()
    projects = {row[4] for row in server_rows(initialised, alice)}
    assert projects == {"", "secret-project"}


# -- show ---------------------------------------------------------------------------------


def test_team_show_pools_the_budget_projects_and_alerts_only_self_and_leads(
    initialised: TeamDatabase, machine_factory: Any, memory_keyring: MemoryKeyring
) -> None:
    with initialised.admin() as admin:
        admin.execute("UPDATE tokenbuddy.team_budget SET pooled_monthly_usd = 400")
    _, zed_dsn = initialised.add_member("zed", alias="Zed", soft_limit_usd=10.0)
    _, amy_dsn = initialised.add_member("amy", alias="Amy", soft_limit_usd=500.0)
    _, lead_dsn = initialised.add_member("lea", alias="Lea", team_lead=True)
    heavy, light = machine_factory(zed_dsn, "zed"), machine_factory(amy_dsn, "amy")
    for day in NOV[:19]:
        heavy.add(day, 10, cost=6.0, model="claude-opus-4-1")
        light.add(day, 10, cost=1.0)
    heavy.sync()
    light.sync()

    memory_keyring.set_password("tokenbuddy", "team-dsn", amy_dsn)
    from tokenbuddy.services.team_sync import state_path
    from tokenbuddy.store.paths import app_paths

    app_paths().ensure()
    with SyncState(state_path(app_paths())) as state:
        state.put(joined="1")  # what `team join` records beside the keyring entry
    code, out, _ = run_cli(
        "team", "show", "--json", "--since", "2026-11-01", "--until", "2026-11-30"
    )
    assert code == 0
    shown = orjson.loads(out)
    assert [m["alias"] for m in shown["members"]] == ["Amy", "Lea", "Zed"]  # never by spend
    assert shown["totals"]["cost_usd"] == pytest.approx(19 * 7.0)
    assert [m["model"] for m in shown["by_model"]] == ["claude-opus-4-1", "claude-sonnet-4-5"]
    assert shown["budget"]["pooled_monthly_usd"] == 400
    assert "zed_" not in out and "amy_" not in out  # role names stay private

    as_amy = load_team_overview(amy_dsn, now_ms=NOW_MS, zone=UTC_ZONE)
    assert as_amy.month_to_date_usd == pytest.approx(19 * 7.0)
    assert as_amy.budget_used_ratio == pytest.approx(19 * 7.0 / 400)
    assert as_amy.projected_month_end_usd == pytest.approx(30 * 7.0, rel=0.05)
    assert as_amy.over_soft_limit == [] and as_amy.others_over_soft_limit == 1
    as_lead = load_team_overview(lead_dsn, now_ms=NOW_MS, zone=UTC_ZONE)
    assert as_lead.over_soft_limit == ["Zed"] and as_lead.viewer_is_lead
    as_zed = load_team_overview(zed_dsn, now_ms=NOW_MS, zone=UTC_ZONE)
    assert as_zed.over_soft_limit == ["Zed"] and not as_zed.viewer_is_lead
    code, text, _ = run_cli("team", "show", "--since", "2026-11-01", "--until", "2026-11-02")
    assert code == 0 and "Pooled budget $400.00/month" in text and "Amy (you)" in text
    assert "$14.00" in text  # the period's total: 2 days x $7


# -- migrations ---------------------------------------------------------------------------


def test_members_of_the_previous_schema_keep_their_rows_after_migration(
    team_db: TeamDatabase, machine_factory: Any
) -> None:
    with team_db.admin() as admin:
        assert migrate(admin, target=LATEST - 1).after == LATEST - 1
    alice, dsn = _member_v1(team_db, "alice")
    machine = machine_factory(dsn, "laptop")
    machine.add(NOV[0], 9, cost=2.0)
    with pytest.raises(TeamSchemaError, match="team init"):
        _raise(machine.sync())
    with SyncState(machine.options.state_path) as state:
        machine_id = state.machine_id()
    with psycopg.connect(dsn, autocommit=True) as old_client:  # what the previous version wrote
        old_client.execute(
            "INSERT INTO tokenbuddy.machines (machine_id) VALUES (%s)", (machine_id,)
        )
        old_client.execute(
            "INSERT INTO tokenbuddy.daily_usage (machine_id, day, source, model, input_tokens,"
            " output_tokens, cache_write_tokens, cache_read_tokens, cost_usd, requests)"
            " VALUES (%s, '2026-11-01', 'claude-code', 'claude-sonnet-4-5', 10, 100, 100, 1000,"
            " 2.0, 1)",
            (machine_id,),
        )

    code, out, _ = run_cli("team", "init", team_db.admin_dsn)
    assert code == 0 and f"from version {LATEST - 1} to {LATEST}" in out
    assert server_cost(team_db, alice) == 2.0
    assert machine.sync().status == "synced"
    assert server_cost(team_db, alice) == 2.0  # replaced, not doubled
    assert len(server_rows(team_db, alice)) == 1


def _member_v1(team_db: TeamDatabase, name: str) -> tuple[str, str]:
    """A member made by hand on a previous-version schema (add-member needs the latest)."""
    import secrets

    role = f"{name}_{secrets.token_hex(3)}"
    team_db.roles.append(role)
    with team_db.admin() as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw-{role}' IN ROLE tokenbuddy_member")
        admin.execute("INSERT INTO tokenbuddy.members (role_name) VALUES (%s)", (role,))
    params = _driver.parse_dsn(team_db.admin_dsn) | {"user": role, "password": f"pw-{role}"}
    return role, _driver.to_uri(params)


def _raise(report: Any) -> None:
    if not report.ok:
        raise TeamSchemaError(report.error)
