"""Team sync pieces that need no server: TLS rule, DSNs, aggregates, backoff, the extra."""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Any

import pytest

from tests.team.pgserver import free_port
from tokenbuddy.cli.main import main
from tokenbuddy.errors import TeamDriverMissingError, TeamInsecureError
from tokenbuddy.team import _driver
from tokenbuddy.team.aggregates import project_label
from tokenbuddy.team.schema import (
    NewMember,
    add_member_script,
    check_role_name,
    migration_script,
)

pytest.importorskip("psycopg")


@pytest.mark.parametrize(
    ("dsn", "secure"),
    [
        ("postgresql://u:p@db.example.com/team", False),
        ("postgresql://u:p@db.example.com/team?sslmode=prefer", False),
        ("postgresql://u:p@db.example.com/team?sslmode=require", True),
        ("host=10.0.0.5 dbname=team sslmode=verify-full", True),
        ("host=localhost,db.example.com dbname=team", False),
        ("postgresql://u:p@127.0.0.1:5432/team", True),
        ("postgresql://u:p@[::1]:5432/team", True),
        ("host=/var/run/postgresql dbname=team", True),
        ("dbname=team", True),
    ],
)
def test_non_loopback_hosts_need_tls(dsn: str, secure: bool) -> None:
    params = _driver.parse_dsn(dsn)
    if secure:
        _driver.check_transport(params, allow_insecure=False, environ={})
    else:
        with pytest.raises(TeamInsecureError, match="--allow-insecure"):
            _driver.check_transport(params, allow_insecure=False, environ={})
        _driver.check_transport(params, allow_insecure=True, environ={})


def test_libpq_environment_counts_for_the_tls_rule() -> None:
    params = _driver.parse_dsn("dbname=team")
    with pytest.raises(TeamInsecureError):
        _driver.check_transport(params, allow_insecure=False, environ={"PGHOST": "db.example"})
    env = {"PGHOST": "db.example", "PGSSLMODE": "require"}
    _driver.check_transport(params, allow_insecure=False, environ=env)


def test_an_insecure_join_is_refused_before_any_connection() -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["team", "join", f"postgresql://u:p@192.0.2.1:{free_port()}/team"])
    assert code == 1 and "without TLS" in err.getvalue() and "u:p" not in err.getvalue()


def test_member_dsns_round_trip_through_a_uri() -> None:
    params = {"user": "ana", "password": "a/b+c=d", "host": "db.example", "port": "6432",
              "dbname": "team", "sslmode": "verify-full"}  # fmt: skip
    assert _driver.parse_dsn(_driver.to_uri(params)) == params
    socket = {"user": "ana", "host": "/var/run/postgresql", "dbname": "team"}
    assert _driver.parse_dsn(_driver.to_uri(socket)) == socket


def test_print_sql_quotes_what_it_names_with_psycopg() -> None:
    member = NewMember("ana", alias='O\'Brien \\ "Zoë"')
    script = add_member_script(member, "<verifier>", 'my "team" db')
    assert 'CREATE ROLE "ana" LOGIN PASSWORD \'<verifier>\' IN ROLE "tokenbuddy_member";' in script
    assert 'GRANT CONNECT ON DATABASE "my ""team"" db" TO "ana";' in script
    assert "E'O''Brien \\\\ \"Zoë\"'" in script  # E'' reads alike either setting


@pytest.mark.parametrize("name", ["Ana", "1ana", "pg_ana", "ana-b", "tokenbuddy_member", ""])
def test_member_names_are_plain_role_names(name: str) -> None:
    with pytest.raises(ValueError, match="lower-case"):
        check_role_name(name)


def test_add_member_print_sql_shows_no_password() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["team", "add-member", "postgresql://x@localhost/t", "ana", "--print-sql"])
    assert code == 0
    assert 'CREATE ROLE "ana" LOGIN PASSWORD' in out.getvalue() and "verifier" in out.getvalue()


def test_migrations_are_versioned_and_enable_row_level_security() -> None:
    script = migration_script()
    assert script.count("INSERT INTO tokenbuddy.schema_migrations") == 2
    assert script.count("ENABLE ROW LEVEL SECURITY") == 3
    assert "leaderboard" not in script and "rank(" not in script.lower()


def test_project_labels_are_folder_names() -> None:
    assert project_label("/home/me/code/acme/") == "acme"
    assert project_label("C:\\work\\acme") in {"acme", "C:\\work\\acme"}
    assert project_label("") == ""


def test_without_psycopg_the_team_commands_say_how_to_install_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(TeamDriverMissingError, match=r"tokenbuddy\[team\]"):
        _driver.require_psycopg()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["team", "show", "--dsn", "postgresql://localhost/x"])
    assert code == 1 and "pip install 'tokenbuddy[team]'" in err.getvalue()


def test_offline_sync_reports_a_failure_and_never_raises(machine_factory: Any) -> None:
    machine = machine_factory(f"postgresql://a:b@127.0.0.1:{free_port()}/x", "offline", timeout_s=2)
    report = machine.sync()
    assert report.status == "failed" and report.next_attempt_ms is not None
    assert "b@" not in report.error


def test_the_team_table_of_the_config_is_validated(tmp_path: Any) -> None:
    from tokenbuddy.store.settings import load_settings

    config = tmp_path / "config.toml"
    config.write_text("[team]\nshare_project_names = true\nsoft_limit_usd = -5\n")
    settings, problems = load_settings(config)
    assert problems and "team.soft_limit_usd" in problems[0]
    # Only the bad value falls back to its default; the rest of the table is kept.
    assert settings.team.soft_limit_usd is None and settings.team.share_project_names is True


def test_a_machine_that_never_joined_is_told_so_without_keyring_noise(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import keyring
    from keyring.backends import fail

    from tokenbuddy.cli.main import main

    keyring.set_keyring(fail.Keyring())
    assert main(["team", "show"]) == 1
    err = capsys.readouterr().err
    assert "not joined to a team" in err and "keyring" not in err
