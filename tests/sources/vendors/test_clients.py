"""The vendor clients over real HTTP against the fake server: success and every failure mode."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from fakevendor import (
    ANTHROPIC_KEY,
    CLAUDE_TOKEN,
    CURSOR_TEAM_KEY,
    OPENAI_KEY,
    Day,
    Failure,
    FakeVendor,
    cursor_jwt,
)

from tokenbuddy.errors import VendorAuthError, VendorNetworkError, VendorResponseError
from tokenbuddy.services.monitor import subscription_windows
from tokenbuddy.services.vendor_poll import Credential, Schedule, find_credential, poll_provider
from tokenbuddy.sources.vendors import (
    admin_reports,
    anthropic_admin,
    claude_oauth,
    cursor,
    openai_admin,
)
from tokenbuddy.store.ledger import Ledger
from tokenbuddy.store.vendors import claim_poll, source_state

NOW = datetime(2030, 1, 3, 12, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
DAY_MS = 86_400_000
USAGE = "/v1/organizations/usage_report/messages"
COSTS = "/v1/organizations/cost_report"


def anthropic_days(count: int = 8) -> list[Day]:
    return [
        Day(
            f"2030-01-0{3 - i}" if i < 3 else f"2029-12-{31 - (i - 3)}",
            "claude-sonnet-4-5-20250929",
            100 * (i + 1),
            10,
            1000,
            50,
            cost_usd=1.5 + i,
        )
        for i in range(count)
    ]


@pytest.fixture
def ledger(tmp_path: Path):
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def count(ledger: Ledger, table: str) -> int:
    return int(ledger.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def test_anthropic_usage_and_costs_follow_every_page(fake: FakeVendor, options) -> None:
    fake.anthropic_days = anthropic_days()
    result = await admin_reports.pull(
        anthropic_admin.REPORTS, ANTHROPIC_KEY, NOW_MS - 9 * DAY_MS, NOW_MS, options
    )
    assert fake.hits(USAGE) == 4 and fake.hits(COSTS) == 4  # 10 daily buckets, 3 per page
    assert len(result.usage) == 8
    newest = next(r for r in result.usage if r.bucket_start_ms == NOW_MS - 12 * 3_600_000)
    assert (newest.input_tokens, newest.cache_read_tokens, newest.cache_write_tokens) == (
        100,
        1000,
        50,
    )
    assert newest.bucket_minutes == 1440
    costs = {row.day: row.amount_usd for row in result.costs}
    assert costs["2030-01-03"] == pytest.approx(1.5)  # cents strings, summed over token types
    assert costs["2029-12-27"] == pytest.approx(8.5)
    query = fake.requests[0].query
    assert query["group_by[]"] == ["model"] and query["bucket_width"] == ["1d"]


async def test_unknown_extra_fields_are_ignored(fake: FakeVendor, options) -> None:
    fake.anthropic_days = anthropic_days(2)
    plain = await admin_reports.pull(
        anthropic_admin.REPORTS, ANTHROPIC_KEY, NOW_MS - DAY_MS, NOW_MS, options
    )
    fake.extra_fields = True
    extended = await admin_reports.pull(
        anthropic_admin.REPORTS, ANTHROPIC_KEY, NOW_MS - DAY_MS, NOW_MS, options
    )
    assert extended.usage == plain.usage and extended.costs == plain.costs


async def test_a_missing_field_is_a_schema_error_naming_it(fake: FakeVendor, options) -> None:
    fake.anthropic_days = anthropic_days(2)
    fake.drop_fields = {"output_tokens"}
    with pytest.raises(VendorResponseError, match="output_tokens") as raised:
        await admin_reports.pull(
            anthropic_admin.REPORTS, ANTHROPIC_KEY, NOW_MS - DAY_MS, NOW_MS, options
        )
    assert raised.value.kind == "schema"


async def test_401_is_an_auth_error_without_the_secret(fake: FakeVendor, options) -> None:
    wrong = "sk-ant-admin01-WRONGwrongWRONGwrong"
    with pytest.raises(VendorAuthError) as raised:
        await admin_reports.pull(anthropic_admin.REPORTS, wrong, NOW_MS - DAY_MS, NOW_MS, options)
    assert raised.value.kind == "unauthorized"
    assert "401" in str(raised.value) and wrong not in str(raised.value)


async def test_403_naming_a_scope_is_a_missing_scope(fake: FakeVendor, options) -> None:
    body = b'{"error": {"message": "Missing scopes: api.usage.read"}}'
    fake.script("/v1/organization/usage/completions", Failure(status=403, raw=body))
    with pytest.raises(VendorAuthError, match=r"api\.usage\.read") as raised:
        await admin_reports.probe(openai_admin.REPORTS, OPENAI_KEY, NOW_MS, options)
    assert raised.value.kind == "missing_scope"


async def test_429_waits_as_long_as_retry_after_asks(fake: FakeVendor, options, sleeps) -> None:
    fake.script(USAGE, Failure(status=429, retry_after="2"))
    await admin_reports.probe(anthropic_admin.REPORTS, ANTHROPIC_KEY, NOW_MS, options)
    assert sleeps == [2.0] and fake.hits(USAGE) == 2


async def test_500_is_retried_with_growing_jittered_backoff(
    fake: FakeVendor, options, sleeps
) -> None:
    fake.script(USAGE, Failure(status=500, times=2))
    await admin_reports.probe(anthropic_admin.REPORTS, ANTHROPIC_KEY, NOW_MS, options)
    assert len(sleeps) == 2
    assert 0.025 <= sleeps[0] <= 0.05 and 0.05 <= sleeps[1] <= 0.1


async def test_persistent_500_ends_as_a_server_error(fake: FakeVendor, options) -> None:
    fake.script(USAGE, Failure(status=503, times=5))
    with pytest.raises(VendorNetworkError) as raised:
        await admin_reports.probe(anthropic_admin.REPORTS, ANTHROPIC_KEY, NOW_MS, options)
    assert raised.value.kind == "server" and fake.hits(USAGE) == 3


async def test_a_slow_answer_times_out(fake: FakeVendor, options) -> None:
    fake.script(USAGE, Failure(delay_s=3))
    with pytest.raises(VendorNetworkError, match=r"0\.5 s") as raised:
        await admin_reports.probe(anthropic_admin.REPORTS, ANTHROPIC_KEY, NOW_MS, options)
    assert raised.value.kind == "timeout"


async def test_malformed_json_is_reported(fake: FakeVendor, options) -> None:
    fake.script(USAGE, Failure(raw=b'{"data": [tru'))
    with pytest.raises(VendorResponseError) as raised:
        await admin_reports.probe(anthropic_admin.REPORTS, ANTHROPIC_KEY, NOW_MS, options)
    assert raised.value.kind == "malformed"


async def test_an_unreachable_vendor_is_a_network_error(options, monkeypatch) -> None:
    monkeypatch.setenv("TOKENBUDDY_OPENAI_BASE_URL", "http://127.0.0.1:9")
    with pytest.raises(VendorNetworkError) as raised:
        await admin_reports.probe(openai_admin.REPORTS, OPENAI_KEY, NOW_MS, options)
    assert raised.value.kind == "network" and OPENAI_KEY not in str(raised.value)


async def test_openai_amounts_as_numbers_or_strings_and_cached_input(
    fake: FakeVendor, options
) -> None:
    fake.openai_days = [
        Day(
            "2030-01-02",
            "gpt-5-2025-08-07",
            300,
            40,
            cache_read_tokens=700,
            cost_usd=0.25,
            requests=4,
        ),
        Day("2030-01-03", "gpt-5-2025-08-07", 100, 10, cache_read_tokens=0, cost_usd=0.5),
    ]
    result = await admin_reports.pull(
        openai_admin.REPORTS, OPENAI_KEY, NOW_MS - 2 * DAY_MS, NOW_MS, options
    )
    usage = {r.bucket_start_ms: r for r in result.usage}
    day_before = usage[NOW_MS - 12 * 3_600_000 - DAY_MS]
    assert (day_before.input_tokens, day_before.cache_read_tokens, day_before.requests) == (
        300,
        700,
        4,
    )
    assert sorted((c.day, c.model, c.amount_usd) for c in result.costs) == [
        ("2030-01-02", "gpt-5-2025-08-07", 0.25),
        ("2030-01-03", "gpt-5-2025-08-07", 0.5),
    ]


# -- polling into the ledger -----------------------------------------------------------------


async def test_a_repoll_never_duplicates_rows(fake: FakeVendor, options, ledger) -> None:
    fake.anthropic_days = anthropic_days()
    credential = Credential("anthropic", ANTHROPIC_KEY, "keyring")
    first = await poll_provider(ledger, credential, NOW_MS, options, Schedule())
    usage, costs = count(ledger, "vendor_usage"), count(ledger, "vendor_costs")
    second = await poll_provider(ledger, credential, NOW_MS + 600_000, options, Schedule())
    assert first.status == second.status == "ok"
    assert (usage, costs) == (8, 8)
    assert (count(ledger, "vendor_usage"), count(ledger, "vendor_costs")) == (usage, costs)


async def test_a_failed_poll_keeps_the_last_rows_and_records_a_clear_state(
    fake: FakeVendor, options, ledger
) -> None:
    fake.anthropic_days = anthropic_days(3)
    credential = Credential("anthropic", ANTHROPIC_KEY, "keyring")
    await poll_provider(ledger, credential, NOW_MS, options, Schedule())
    fake.drop_fields = {"uncached_input_tokens"}
    outcome = await poll_provider(ledger, credential, NOW_MS + 60_000, options, Schedule())
    state = source_state(ledger, "anthropic")
    assert outcome.status == "error" and state.status == "error"
    assert state.error_kind == "schema" and "uncached_input_tokens" in state.last_error
    assert state.last_success_ms == NOW_MS and state.failures == 1
    assert state.next_poll_ms == NOW_MS + 60_000 + Schedule().interval_ms
    assert count(ledger, "vendor_usage") == 3


async def test_a_long_retry_after_schedules_the_next_poll_after_it(
    fake: FakeVendor, options, ledger, sleeps
) -> None:
    fake.script(USAGE, Failure(status=429, retry_after="3600"))
    credential = Credential("anthropic", ANTHROPIC_KEY, "keyring")
    outcome = await poll_provider(ledger, credential, NOW_MS, options, Schedule())
    state = source_state(ledger, "anthropic")
    assert outcome.error_kind == "rate_limited" and sleeps == []
    assert state.next_poll_ms == NOW_MS + 3_600_000


async def test_one_poll_per_provider_at_a_time(fake: FakeVendor, options, ledger) -> None:
    assert claim_poll(ledger, "openai", NOW_MS, 300_000)
    credential = Credential("openai", OPENAI_KEY, "keyring")
    outcome = await poll_provider(ledger, credential, NOW_MS + 1000, options, Schedule())
    assert outcome.status == "busy" and fake.hits("/v1/organization/usage/completions") == 0
    later = await poll_provider(ledger, credential, NOW_MS + 400_000, options, Schedule())
    assert later.status == "ok"


# -- Claude subscription utilisation ---------------------------------------------------------


def write_credentials(config_dir: Path, **entry: object) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    oauth = {
        "accessToken": CLAUDE_TOKEN,
        "refreshToken": "sk-ant-ort01-never-used",
        "expiresAt": NOW_MS + 3_600_000,
        "scopes": ["user:inference", "user:profile"],
        "subscriptionType": "max",
        **entry,
    }
    (config_dir / ".credentials.json").write_bytes(orjson.dumps({"claudeAiOauth": oauth}))


async def test_claude_windows_feed_the_window_projections(
    fake: FakeVendor, options, ledger, tmp_path
) -> None:
    write_credentials(tmp_path / "claude")
    before = (tmp_path / "claude" / ".credentials.json").read_bytes()
    credential = find_credential(
        "claude", {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}, tmp_path
    )
    assert credential is not None
    outcome = await poll_provider(ledger, credential, NOW_MS, options, Schedule())
    assert outcome.status == "ok"
    windows = {(w.source, w.window_minutes): w for w in subscription_windows(ledger, NOW_MS)}
    assert set(windows) == {
        ("claude-code", 300),
        ("claude-code", 10080),
        ("claude-code/Opus", 10080),
    }
    assert windows[("claude-code", 300)].projection.used_percent == 37.0
    assert windows[("claude-code", 300)].plan == "max"
    assert (tmp_path / "claude" / ".credentials.json").read_bytes() == before


async def test_an_expired_claude_token_is_never_sent_or_refreshed(
    fake: FakeVendor, options, tmp_path
) -> None:
    write_credentials(tmp_path / "claude", expiresAt=NOW_MS - 1)
    token = claude_oauth.find_token({"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}, tmp_path)
    assert token is not None
    with pytest.raises(VendorAuthError, match="open Claude Code") as raised:
        await claude_oauth.pull(token, NOW_MS, options)
    assert raised.value.kind == "expired" and fake.requests == []


async def test_the_env_token_wins_and_a_missing_scope_is_named(
    fake: FakeVendor, options, tmp_path
) -> None:
    write_credentials(tmp_path / "claude", scopes=["user:inference"])
    token = claude_oauth.find_token({"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}, tmp_path)
    with pytest.raises(VendorAuthError, match="user:profile"):
        await claude_oauth.pull(token, NOW_MS, options)  # type: ignore[arg-type]
    env_token = claude_oauth.find_token({"CLAUDE_CODE_OAUTH_TOKEN": CLAUDE_TOKEN}, tmp_path)
    assert env_token is not None and env_token.origin == "CLAUDE_CODE_OAUTH_TOKEN"
    assert len((await claude_oauth.pull(env_token, NOW_MS, options)).rate_limits) == 3


async def test_claude_drifted_windows_are_skipped_not_fatal(fake: FakeVendor, options) -> None:
    fake.claude_usage = {
        "five_hour": {"resets_at": None},
        "seven_day": {"utilization": 12.5},
        "limits": "soon",
        "tangelo": None,
    }
    token = claude_oauth.ClaudeToken(CLAUDE_TOKEN, "test")
    result = await claude_oauth.pull(token, NOW_MS, options)
    assert [(r.window_minutes, r.used_percent) for r in result.rate_limits] == [(10080, 12.5)]
    assert result.detail["skipped"] == 1
    fake.claude_usage = {"five_hour": None}
    with pytest.raises(VendorResponseError, match="no utilisation window"):
        await claude_oauth.pull(token, NOW_MS, options)


@pytest.mark.parametrize(
    "name", ["claude_oauth_usage.cheilman.json", "claude_oauth_usage.tokenspy.json"]
)
def test_real_oauth_answers_parse(shared_fixtures: Path, name: str) -> None:
    body = orjson.loads((shared_fixtures / "claude-oauth-usage" / name).read_bytes())
    readings, _skipped = claude_oauth.usage_readings(body, NOW_MS, "")
    by_window = {(r.source, r.window_minutes): r for r in readings}
    assert {("claude-code", 300), ("claude-code", 10080)} <= set(by_window)
    assert 0 <= by_window[("claude-code", 300)].used_percent <= 100


# -- Cursor ----------------------------------------------------------------------------------


def cursor_event(ts_ms: int, **fields: object) -> dict[str, object]:
    return {
        "timestamp": str(ts_ms),
        "model": "composer-2.5",
        "kind": "USAGE_EVENT_KIND_USAGE_BASED",
        "maxMode": False,
        "isTokenBasedCall": True,
        "tokenUsage": {
            "inputTokens": 100,
            "outputTokens": 50,
            "cacheWriteTokens": 10,
            "cacheReadTokens": 2000,
            "totalCents": 3.0,
        },
        "owningUser": "234376495",
        "conversationId": "conv-1",
        **fields,
    }


def cursor_costs(ledger: Ledger) -> list[tuple[int, float]]:
    return ledger.db.execute(
        "SELECT ts_ms, cost_usd FROM requests WHERE source = 'cursor' ORDER BY ts_ms"
    ).fetchall()


async def test_cursor_events_are_priced_by_what_cursor_charged(
    fake: FakeVendor, options, ledger
) -> None:
    base = NOW_MS - DAY_MS
    fake.cursor_events = [cursor_event(base + i * 1000, chargedCents=4.5) for i in range(150)] + [
        cursor_event(base + 200_000, cursorTokenFee=0.5),
        cursor_event(base + 300_000, kind="USAGE_EVENT_KIND_ERRORED_NOT_CHARGED", chargedCents=9.0),
        {"model": "no-timestamp"},
    ]
    credential = Credential("cursor", cursor_jwt(), "keyring")
    outcome = await poll_provider(ledger, credential, NOW_MS, options, Schedule())
    assert outcome.status == "ok", outcome.message
    costs = cursor_costs(ledger)
    assert len(costs) == 152 and costs[0][1] == pytest.approx(0.045)
    assert costs[-2][1] == pytest.approx(0.035) and costs[-1][1] == 0.0
    state = source_state(ledger, "cursor")
    assert state.detail["plan_percent_used"] == 61.7 and state.detail["skipped_events"] == 1
    fake.extra_fields = True
    again = await poll_provider(ledger, credential, NOW_MS + 600_000, options, Schedule())
    assert again.status == "ok" and len(cursor_costs(ledger)) == 152
    report = ledger.db.execute("SELECT TOTAL(cost_usd) FROM usage_rollup WHERE source = 'cursor'")
    assert report.fetchone()[0] == pytest.approx(150 * 0.045 + 0.035)


async def test_a_request_seen_by_both_cursor_apis_counts_once(
    fake: FakeVendor, options, ledger
) -> None:
    """``cursor`` (you, by user id) and ``cursor-team`` (everyone, by e-mail) together."""
    base = NOW_MS - DAY_MS
    mine = [cursor_event(base + i * 1000, chargedCents=4.5) for i in range(20)]
    fake.cursor_events = mine
    as_team = [
        {key: value for key, value in event.items() if key != "owningUser"}
        | {"userEmail": "me@example.com", "kind": "Usage-based"}
        for event in mine
    ]
    colleague = cursor_event(base + 5000, chargedCents=7.0) | {"userEmail": "kim@example.com"}
    colleague.pop("owningUser")
    colleague["tokenUsage"] = dict(colleague["tokenUsage"], inputTokens=101)
    fake.team_events = [*as_team, colleague]
    personal = Credential("cursor", cursor_jwt(), "keyring")
    team = Credential("cursor-team", CURSOR_TEAM_KEY, "keyring")
    for when, credential in enumerate((team, personal, team, personal)):
        outcome = await poll_provider(
            ledger, credential, NOW_MS + when * 600_000, options, Schedule()
        )
        assert outcome.status == "ok", outcome.message
    costs = cursor_costs(ledger)
    assert len(costs) == 21, "each of my requests once, plus the colleague's"
    assert sum(cost for _, cost in costs) == pytest.approx(20 * 0.045 + 0.07)


async def test_cursor_token_is_read_from_state_vscdb_read_only(tmp_path) -> None:
    path = cursor.state_db_path({"XDG_CONFIG_HOME": str(tmp_path / "config")}, tmp_path)
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE ItemTable (key TEXT UNIQUE, value BLOB)")
        db.execute("INSERT INTO ItemTable VALUES ('cursorAuth/accessToken', ?)", (cursor_jwt(),))
    db.close()
    path.chmod(0o400)
    credential = find_credential("cursor", {"XDG_CONFIG_HOME": str(tmp_path / "config")}, tmp_path)
    assert credential is not None and credential.origin == str(path)
    assert cursor.session_cookie(credential.secret).startswith("user_01FAKE%3A%3A")


async def test_cursor_team_events_use_basic_auth_and_pages(
    fake: FakeVendor, options, ledger
) -> None:
    fake.team_events = [
        {
            "timestamp": str(NOW_MS - i * 60_000),
            "model": "claude-4-opus",
            "kind": "Usage-based",
            "requestsCosts": 5,
            "isTokenBasedCall": True,
            "userEmail": "dev@example.com",
            "tokenUsage": {"inputTokens": 1, "outputTokens": 2, "totalCents": 20.0},
        }
        for i in range(230)
    ]
    credential = Credential("cursor-team", CURSOR_TEAM_KEY, "keyring")
    outcome = await poll_provider(ledger, credential, NOW_MS, options, Schedule())
    assert outcome.status == "ok" and fake.hits("/teams/filtered-usage-events") == 3
    assert len(cursor_costs(ledger)) == 230
    assert source_state(ledger, "cursor-team").detail["team_spend_cents"] == 4200
    wrong = Credential("cursor-team", "key_wrong", "keyring")
    failed = await poll_provider(ledger, wrong, NOW_MS + 600_000, options, Schedule())
    assert failed.error_kind == "unauthorized" and len(cursor_costs(ledger)) == 230
