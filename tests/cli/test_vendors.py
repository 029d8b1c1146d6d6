"""``auth``, ``vendors pull``, ``sources`` and ``reconcile`` as a user runs them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import orjson
import pytest
from fakevendor import ANTHROPIC_KEY, CLAUDE_TOKEN, OPENAI_KEY, Day, Failure, FakeVendor
from keyring.backends import fail

from tokenbuddy.cli.main import main
from tokenbuddy.store.secrets import SERVICE

TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


def run(
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_auth_add_reads_a_piped_secret_and_list_masks_it(
    capsys, monkeypatch, memory_keyring
) -> None:
    code, out, err = run(
        capsys, "auth", "add", "anthropic", stdin=ANTHROPIC_KEY + "\n", monkeypatch=monkeypatch
    )
    assert code == 0 and memory_keyring.secrets[(SERVICE, "anthropic")] == ANTHROPIC_KEY
    code, listing, err2 = run(capsys, "auth", "list")
    assert code == 0 and "****0001" in listing
    assert "openai" in listing and "not set" in listing
    for text in (out, err, listing, err2):
        assert ANTHROPIC_KEY not in text and ANTHROPIC_KEY[:-4] not in text
    code, out, _ = run(capsys, "auth", "remove", "anthropic")
    assert code == 0 and "removed" in out and memory_keyring.secrets == {}


def test_auth_without_a_usable_keyring_says_how_to_fix_it(capsys, monkeypatch) -> None:
    keyring.set_keyring(fail.Keyring())
    code, out, err = run(capsys, "auth", "add", "openai", stdin=OPENAI_KEY, monkeypatch=monkeypatch)
    assert code == 1 and "keyrings.alt" in err and OPENAI_KEY not in out + err
    code, listing, err = run(capsys, "auth", "list")
    assert code == 0 and "unavailable" in listing and "Secret Service" in err


def test_auth_test_reports_success(fake: FakeVendor, capsys, memory_keyring) -> None:
    memory_keyring.set_password(SERVICE, "openai", OPENAI_KEY)
    code, out, err = run(capsys, "auth", "test", "openai")
    assert code == 0 and "openai: OK" in out and OPENAI_KEY not in out + err


@pytest.mark.parametrize(
    ("script", "kind"),
    [
        (None, "unauthorized"),
        (
            Failure(status=403, raw=b'{"error": {"message": "Missing scopes: api.usage.read"}}'),
            "missing_scope",
        ),
        (Failure(status=403), "forbidden"),
    ],
)
def test_auth_test_names_the_exact_problem(fake, capsys, memory_keyring, script, kind) -> None:
    secret = OPENAI_KEY if script else "sk-admin-REVOKEDrevokedREVOKED9999"
    memory_keyring.set_password(SERVICE, "openai", secret)
    if script:
        fake.script("/v1/organization/usage/completions", script)
    code, out, err = run(capsys, "auth", "test", "openai")
    assert code == 1 and f"[{kind}]" in err
    assert secret not in out + err and secret[-12:-4] not in out + err


def test_auth_test_reports_the_network(capsys, memory_keyring, monkeypatch) -> None:
    monkeypatch.setenv("TOKENBUDDY_ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    memory_keyring.set_password(SERVICE, "anthropic", ANTHROPIC_KEY)
    code, _out, err = run(capsys, "auth", "test", "anthropic")
    assert code == 1 and "[network]" in err and ANTHROPIC_KEY not in err


def test_auth_add_claude_explains_that_claude_code_owns_the_token(capsys) -> None:
    code, _out, err = run(capsys, "auth", "add", "claude")
    assert code == 1 and "read-only" in err


def write_claude_log(config_dir: Path, day: datetime, cost_tokens: int) -> None:
    path = config_dir / "projects" / "-home-dev-shop" / "s1.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "type": "assistant",
        "timestamp": day.isoformat().replace("+00:00", "Z"),
        "sessionId": "s1",
        "cwd": "/home/dev/shop",
        "requestId": "req_1",
        "message": {
            "id": "msg_1",
            "model": "claude-sonnet-4-5-20250929",
            "usage": {
                "input_tokens": cost_tokens,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        },
    }
    path.write_bytes(orjson.dumps(record) + b"\n")


def test_pull_sources_and_reconcile(
    fake: FakeVendor, capsys, memory_keyring, isolated_environment
) -> None:
    memory_keyring.set_password(SERVICE, "anthropic", ANTHROPIC_KEY)
    memory_keyring.set_password(SERVICE, "openai", "sk-admin-REVOKEDrevokedREVOKED9999")
    claude_dir = isolated_environment / "claude"
    claude_dir.mkdir()
    (claude_dir / ".credentials.json").write_bytes(
        orjson.dumps({"claudeAiOauth": {"accessToken": CLAUDE_TOKEN, "scopes": ["user:profile"]}})
    )
    write_claude_log(
        claude_dir,
        datetime.combine(YESTERDAY, datetime.min.time(), UTC) + timedelta(hours=9),
        100_000,
    )
    fake.anthropic_days = [
        Day(YESTERDAY.isoformat(), "claude-sonnet-4-5-20250929", 100_000, 0, cost_usd=0.5)
    ]

    code, out, err = run(capsys, "vendors", "pull")
    assert code == 1  # openai's key is refused
    assert "anthropic: ok" in out and "claude: ok" in out and "cursor: not configured" in out
    assert "openai: error [unauthorized]" in err

    code, out, err = run(capsys, "sources", "--json")
    sources = {s["provider"]: s for s in orjson.loads(out)["sources"]}
    assert sources["anthropic"]["status"] == "ok" and sources["claude"]["status"] == "ok"
    assert (
        sources["openai"]["status"] == "error" and sources["openai"]["error_kind"] == "unauthorized"
    )
    assert sources["cursor"]["status"] == "not configured" and not sources["cursor"]["configured"]
    assert sources["claude"]["credential_from"].endswith(".credentials.json")
    code, table, _ = run(capsys, "sources")
    for text in (out, err, table):
        assert ANTHROPIC_KEY not in text and CLAUDE_TOKEN not in text and "REVOKED" not in text

    code, out, err = run(capsys, "reconcile", "--json", "--since", YESTERDAY.isoformat())
    body = orjson.loads(out)
    assert code == 0 and set(body) == {"rows", "totals"}
    row = next(r for r in body["rows"] if r["date"] == YESTERDAY.isoformat())
    assert row["provider"] == "anthropic" and row["model"] == "claude-sonnet-4-5"
    assert row["local_usd"] == pytest.approx(0.3) and row["billed_usd"] == pytest.approx(0.5)
    assert row["diff_usd"] == pytest.approx(0.2)
    assert body["totals"]["diff_usd"] == pytest.approx(sum(r["diff_usd"] for r in body["rows"]))
    code, table, _ = run(
        capsys, "reconcile", "--since", YESTERDAY.isoformat(), "--until", YESTERDAY.isoformat()
    )
    assert "claude-sonnet-4-5" in table and "$0.20" in table

    code, out, _ = run(capsys, "status", "--json")
    windows = orjson.loads(out)["windows"]
    assert any(w.get("window_minutes") == 300 for w in windows)


def test_reconcile_without_vendor_data_says_what_to_do(capsys) -> None:
    code, out, err = run(capsys, "reconcile", "--json")
    assert code == 0 and orjson.loads(out) == {
        "rows": [],
        "totals": {"local_usd": 0, "billed_usd": 0, "diff_usd": 0},
    }
    assert "tokenbuddy auth add" in err
