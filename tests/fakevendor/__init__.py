"""A fake of every vendor endpoint tokenbuddy polls, over real HTTP on 127.0.0.1.

The shapes follow ``../shared/FORMATS.md`` §3.1 (Claude OAuth usage), §4 (Anthropic
Admin usage_report/messages and cost_report), §5.1 (OpenAI organization usage and
costs) and §6.2-6.3 (Cursor dashboard and Teams Admin API); the values are made up.

Tests script it to fail: :meth:`FakeVendor.script` queues HTTP errors (with
``Retry-After``), slow answers, malformed bodies; ``extra_fields`` adds unknown keys to
every object and ``drop_fields`` removes keys (schema drift).
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ANTHROPIC_KEY = "sk-ant-admin01-FAKEanthropicSECRETvalue0001"
OPENAI_KEY = "sk-admin-FAKEopenaiSECRETvalue0002"
CLAUDE_TOKEN = "sk-ant-oat01-FAKEclaudeSECRETvalue0003"
CURSOR_TEAM_KEY = "key_FAKEcursorTEAMsecret0004"
CURSOR_USER_ID = "user_01FAKE"


def cursor_jwt(user_id: str = CURSOR_USER_ID) -> str:
    """A Cursor-like access token (an unsigned JWT whose ``sub`` names the user)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'sub': f'auth0|{user_id}'})}.FAKEcursorSIGNATURE0005"


@dataclass
class Failure:
    """One scripted misbehaviour of a path."""

    status: int = 200
    retry_after: str | None = None
    delay_s: float = 0.0
    raw: bytes | None = None
    """A body sent as-is (malformed JSON, say)."""
    times: int = 1
    """How many requests it applies to (then the path behaves again)."""


@dataclass
class Day:
    """One UTC day of one model's usage and billed cost at Anthropic or OpenAI."""

    day: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 1


@dataclass
class Recorded:
    """A request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


def default_claude_usage() -> dict[str, Any]:
    """An OAuth usage answer in the current shape (FORMATS §3.1), with made-up values."""
    return {
        "plan": "max",
        "five_hour": {"utilization": 37.0, "resets_at": "2030-01-03T15:00:00.123456+00:00"},
        "seven_day": {"utilization": 62.0, "resets_at": "2030-01-05T00:00:00.654321+00:00"},
        "seven_day_opus": None,
        "seven_day_sonnet": None,
        "extra_usage": {"is_enabled": False, "used_credits": 0.0, "currency": "USD"},
        "limits": [
            {"kind": "session", "group": "session", "percent": 37, "resets_at": None},
            {"kind": "weekly_all", "group": "weekly", "percent": 62, "resets_at": None},
            {
                "kind": "weekly_scoped",
                "group": "weekly",
                "percent": 80,
                "resets_at": "2030-01-05T00:00:00+00:00",
                "scope": {"model": {"display_name": "Opus"}},
            },
        ],
    }


@dataclass
class FakeVendor:
    """The fake server's data and script; :meth:`start` serves it on a free port."""

    anthropic_days: list[Day] = field(default_factory=list)
    openai_days: list[Day] = field(default_factory=list)
    claude_usage: dict[str, Any] = field(default_factory=default_claude_usage)
    cursor_events: list[dict[str, Any]] = field(default_factory=list)
    team_events: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 3
    """Buckets per page of the Anthropic and OpenAI reports (forces pagination)."""
    extra_fields: bool = False
    drop_fields: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    _script: dict[str, list[Failure]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeVendor:
        """Serve in a daemon thread on a free port of 127.0.0.1."""
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving; slow answers in progress end at once."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def script(self, path: str, *failures: Failure) -> None:
        """Queue misbehaviours for ``path``, applied in order."""
        self._script.setdefault(path, []).extend(failures)

    def hits(self, path: str) -> int:
        """Requests received for ``path``."""
        return sum(1 for r in self.requests if r.path == path)

    def next_failure(self, path: str) -> Failure | None:
        queue = self._script.get(path)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def shape(self, value: Any) -> Any:
        """Apply ``extra_fields`` and ``drop_fields`` to every object of an answer."""
        if isinstance(value, list):
            return [self.shape(item) for item in value]
        if not isinstance(value, dict):
            return value
        shaped = {k: self.shape(v) for k, v in value.items() if k not in self.drop_fields}
        if self.extra_fields:
            shaped["zz_new_field"] = {"nested": [1, "two"]}
        return shaped

    # -- routes ------------------------------------------------------------------------

    def route(self, method: str, path: str, request: Recorded) -> tuple[int, Any]:
        """The status and JSON answer for one request."""
        routes = {
            ("GET", "/v1/organizations/usage_report/messages"): self._anthropic_usage,
            ("GET", "/v1/organizations/cost_report"): self._anthropic_costs,
            ("GET", "/v1/organization/usage/completions"): self._openai_usage,
            ("GET", "/v1/organization/costs"): self._openai_costs,
            ("GET", "/api/oauth/usage"): self._claude,
            ("POST", "/api/dashboard/get-current-period-usage"): self._cursor_period,
            ("POST", "/api/dashboard/get-filtered-usage-events"): self._cursor_events,
            ("POST", "/teams/filtered-usage-events"): self._team_events,
            ("POST", "/teams/spend"): self._team_spend,
        }
        handler = routes.get((method, path))
        if handler is None:
            return 404, {"error": {"type": "not_found", "message": "no such endpoint"}}
        return handler(request)

    def _anthropic_auth(self, request: Recorded) -> tuple[int, Any] | None:
        if request.headers.get("x-api-key") != ANTHROPIC_KEY:
            return 401, {
                "type": "error",
                "error": {"type": "authentication_error", "message": "invalid x-api-key"},
            }
        return None

    def _days(self, request: Recorded, unix: bool) -> list[date]:
        start_key, end_key = ("start_time", "end_time") if unix else ("starting_at", "ending_at")
        first = _parse_instant(request.query[start_key][0], unix)
        last = (
            _parse_instant(request.query[end_key][0], unix)
            if end_key in request.query
            else first + timedelta(days=7)
        )
        days, day = [], first.date()
        while datetime.combine(day, datetime.min.time(), UTC) < last:
            days.append(day)
            day += timedelta(days=1)
        return days

    def _page(self, items: list[Any], request: Recorded) -> tuple[list[Any], bool, str | None]:
        token = request.query.get("page", ["page_0"])[0]
        index = int(token.removeprefix("page_"))
        chunk = items[index * self.page_size : (index + 1) * self.page_size]
        more = (index + 1) * self.page_size < len(items)
        return chunk, more, f"page_{index + 1}" if more else None

    def _anthropic_usage(self, request: Recorded) -> tuple[int, Any]:
        refused = self._anthropic_auth(request)
        if refused:
            return refused
        buckets = []
        for day in self._days(request, unix=False):
            results = [
                {
                    "uncached_input_tokens": d.input_tokens,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": d.cache_write_tokens,
                        "ephemeral_1h_input_tokens": 0,
                    },
                    "cache_read_input_tokens": d.cache_read_tokens,
                    "output_tokens": d.output_tokens,
                    "server_tool_use": {"web_search_requests": 0},
                    "model": d.model,
                    "service_tier": None,
                    "context_window": None,
                    "workspace_id": None,
                    "api_key_id": None,
                }
                for d in self.anthropic_days
                if d.day == day.isoformat()
            ]
            buckets.append(
                {
                    "starting_at": f"{day}T00:00:00Z",
                    "ending_at": f"{day + timedelta(days=1)}T00:00:00Z",
                    "results": results,
                }
            )
        chunk, more, token = self._page(buckets, request)
        return 200, {"data": chunk, "has_more": more, "next_page": token}

    def _anthropic_costs(self, request: Recorded) -> tuple[int, Any]:
        refused = self._anthropic_auth(request)
        if refused:
            return refused
        buckets = []
        for day in self._days(request, unix=False):
            results = []
            for d in self.anthropic_days:
                if d.day == day.isoformat():
                    cents = d.cost_usd * 100
                    for share, token_type in (
                        (0.25, "uncached_input_tokens"),
                        (0.75, "output_tokens"),
                    ):
                        results.append(
                            {
                                "amount": f"{cents * share:.5f}",
                                "currency": "USD",
                                "cost_type": "tokens",
                                "description": f"{d.model} {token_type}",
                                "model": d.model,
                                "token_type": token_type,
                                "workspace_id": None,
                                "service_tier": "standard",
                            }
                        )
            buckets.append(
                {
                    "starting_at": f"{day}T00:00:00Z",
                    "ending_at": f"{day + timedelta(days=1)}T00:00:00Z",
                    "results": results,
                }
            )
        chunk, more, token = self._page(buckets, request)
        return 200, {"data": chunk, "has_more": more, "next_page": token}

    def _openai_auth(self, request: Recorded) -> tuple[int, Any] | None:
        if request.headers.get("authorization") != f"Bearer {OPENAI_KEY}":
            return 401, {
                "error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}
            }
        return None

    def _openai_usage(self, request: Recorded) -> tuple[int, Any]:
        refused = self._openai_auth(request)
        if refused:
            return refused
        buckets = []
        for day in self._days(request, unix=True):
            start = int(datetime.combine(day, datetime.min.time(), UTC).timestamp())
            results = [
                {
                    "object": "organization.usage.completions.result",
                    "input_tokens": d.input_tokens + d.cache_read_tokens,
                    "output_tokens": d.output_tokens,
                    "input_cached_tokens": d.cache_read_tokens,
                    "input_audio_tokens": 0,
                    "output_audio_tokens": 0,
                    "num_model_requests": d.requests,
                    "project_id": None,
                    "user_id": None,
                    "api_key_id": None,
                    "model": d.model,
                    "batch": None,
                }
                for d in self.openai_days
                if d.day == day.isoformat()
            ]
            buckets.append(
                {
                    "object": "bucket",
                    "start_time": start,
                    "end_time": start + 86400,
                    "results": results,
                }
            )
        chunk, more, token = self._page(buckets, request)
        return 200, {"object": "page", "data": chunk, "has_more": more, "next_page": token}

    def _openai_costs(self, request: Recorded) -> tuple[int, Any]:
        refused = self._openai_auth(request)
        if refused:
            return refused
        buckets = []
        for index, day in enumerate(self._days(request, unix=True)):
            start = int(datetime.combine(day, datetime.min.time(), UTC).timestamp())
            results = []
            for d in self.openai_days:
                if d.day == day.isoformat():
                    value: Any = d.cost_usd if index % 2 else f"{d.cost_usd}"
                    results.append(
                        {
                            "object": "organization.costs.result",
                            "amount": {"value": value, "currency": "usd"},
                            "line_item": f"{d.model}, input",
                            "project_id": None,
                        }
                    )
            buckets.append(
                {
                    "object": "bucket",
                    "start_time": start,
                    "end_time": start + 86400,
                    "results": results,
                }
            )
        chunk, more, token = self._page(buckets, request)
        return 200, {"object": "page", "data": chunk, "has_more": more, "next_page": token}

    def _claude(self, request: Recorded) -> tuple[int, Any]:
        if request.headers.get("authorization") != f"Bearer {CLAUDE_TOKEN}":
            return 401, {
                "type": "error",
                "error": {"type": "authentication_error", "message": "OAuth token has expired"},
            }
        if request.headers.get("anthropic-beta") != "oauth-2025-04-20":
            return 400, {"error": {"message": "missing beta header"}}
        return 200, self.claude_usage

    def _cursor_auth(self, request: Recorded) -> tuple[int, Any] | None:
        cookie = request.headers.get("cookie", "")
        expected = f"WorkosCursorSessionToken={CURSOR_USER_ID}%3A%3A{cursor_jwt()}"
        if cookie != expected or request.headers.get("origin") != "https://cursor.com":
            return 401, {"error": "Not authenticated"}
        return None

    def _cursor_period(self, request: Recorded) -> tuple[int, Any]:
        refused = self._cursor_auth(request)
        if refused:
            return refused
        return 200, {
            "billingCycleStart": "1780000000000",
            "billingCycleEnd": "1782592000000",
            "planUsage": {
                "totalSpend": 1234,
                "includedSpend": 1234,
                "remaining": 766,
                "limit": 2000,
                "autoPercentUsed": 20,
                "apiPercentUsed": 41,
                "totalPercentUsed": 61.7,
            },
            "displayMessage": "You've used 62% of your included usage",
        }

    def _cursor_events(self, request: Recorded) -> tuple[int, Any]:
        refused = self._cursor_auth(request)
        if refused:
            return refused
        body = request.body
        if not str(body.get("startDate", "")).isdigit():
            return 500, {"error": "Internal"}
        selected = _between(self.cursor_events, int(body["startDate"]), int(body["endDate"]))
        if not selected:
            return 200, {}
        size, page = int(body["pageSize"]), int(body["page"])
        return 200, {
            "totalUsageEventsCount": len(selected),
            "usageEventsDisplay": selected[(page - 1) * size : page * size],
        }

    def _team_auth(self, request: Recorded) -> tuple[int, Any] | None:
        expected = "Basic " + base64.b64encode(f"{CURSOR_TEAM_KEY}:".encode()).decode()
        if request.headers.get("authorization") != expected:
            return 401, {"error": "Unauthorized"}
        return None

    def _team_events(self, request: Recorded) -> tuple[int, Any]:
        refused = self._team_auth(request)
        if refused:
            return refused
        body = request.body
        selected = _between(self.team_events, int(body["startDate"]), int(body["endDate"]))
        size, page = int(body.get("pageSize", 10)), int(body.get("page", 1))
        pages = max(1, -(-len(selected) // size))
        return 200, {
            "totalUsageEventsCount": len(selected),
            "pagination": {
                "numPages": pages,
                "currentPage": page,
                "pageSize": size,
                "hasNextPage": page < pages,
                "hasPreviousPage": page > 1,
            },
            "usageEvents": selected[(page - 1) * size : page * size],
            "period": {"startDate": body["startDate"], "endDate": body["endDate"]},
        }

    def _team_spend(self, request: Recorded) -> tuple[int, Any]:
        refused = self._team_auth(request)
        if refused:
            return refused
        return 200, {
            "teamMemberSpend": [
                {
                    "spendCents": 4200,
                    "fastPremiumRequests": 3,
                    "name": "Dev",
                    "email": "dev@example.com",
                    "role": "member",
                    "hardLimitOverrideDollars": 0,
                }
            ],
            "subscriptionCycleStart": 1780000000000,
            "totalMembers": 1,
            "totalPages": 1,
        }


def _between(events: list[dict[str, Any]], low: int, high: int) -> list[dict[str, Any]]:
    chosen = [e for e in events if low <= int(e.get("timestamp", low)) <= high]
    return sorted(chosen, key=lambda e: -int(e.get("timestamp", low)))


def _parse_instant(value: str, unix: bool) -> datetime:
    if unix:
        return datetime.fromtimestamp(int(value), UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that gave up (timeouts) are expected: stay quiet."""


def _handler_for(fake: FakeVendor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the per-request log."""

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = Recorded(
                method,
                parts.path,
                parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()},
                json.loads(raw) if raw else None,
            )
            fake.requests.append(request)
            failure = fake.next_failure(parts.path)
            if failure and failure.delay_s and fake._stopping.wait(failure.delay_s):
                return
            if failure and (failure.status != 200 or failure.raw is not None):
                body = (
                    failure.raw
                    if failure.raw is not None
                    else json.dumps(
                        {"error": {"type": "scripted", "message": f"scripted {failure.status}"}}
                    ).encode()
                )
                self._send(failure.status, body, failure.retry_after)
                return
            status, answer = fake.route(method, parts.path, request)
            self._send(status, json.dumps(fake.shape(answer)).encode(), None)

        def _send(self, status: int, body: bytes, retry_after: str | None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(body)

    return Handler
