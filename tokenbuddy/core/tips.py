"""Money-saving tips: what the user's own requests would have cost done differently.

Every tip is a counterfactual, never a guess: real requests from the ledger,
changed in one respect (another model, a 5-minute cache, standard mode, a
shorter context...) and priced again with the same price database through a
``reprice`` callable (:meth:`tokenbuddy.core.pricing.PriceBook.cost`). The
difference over the window is scaled to a month: ``saving * 30 / window_days``.

The tips, by stable id
----------------------
``cheaper-model``
    Main-thread Opus requests with at most :data:`ROUTINE_MAX_OUTPUT_TOKENS`
    output tokens (thinking included: tool calls and short answers) re-priced on
    :data:`SONNET_MODEL`; and, unless ``subagent-share`` lists them, subagent
    requests on Opus re-priced on Sonnet and Explore subagents on Sonnet on
    :data:`HAIKU_MODEL`. Only Claude Code requests: Codex never moves to Claude.
``subagent-share``
    When subagents carry more than :data:`SUBAGENT_SHARE_MIN` of Claude Code
    spend, those same subagent re-pricings.
``cache-ttl``
    1-hour cache writes in cache lineages (a session's main thread, or one
    subagent) where no gap between requests reached 5 minutes, so a 5-minute
    cache would have stayed warm, re-priced as 5-minute writes. A lineage with a
    request in the last hour may still need its hour and is left out.
``cache-health``
    Lineages whose warm requests (minutes after the previous one, same model)
    read less than :data:`CACHE_POOR_RATIO` of their input from cache: the
    tokens a request wrote although the previous request had just cached them,
    re-priced as cache reads.
``premium-modes``
    ``speed: fast``, ``inference_geo: us`` and long-context (over 200k input)
    requests, re-priced in standard mode at the base tier.
``draft-in-free-chat``
    Sessions that open with :data:`CHAT_MIN_PROMPTS` or more human prompts each
    answered by exactly one main-thread request (no tool loop): their whole cost,
    which a chat the user already has would have absorbed.
``idle-context``
    Sessions that repeatedly re-sent over :data:`IDLE_CONTEXT_TOKENS` of context
    for replies under :data:`IDLE_REPLY_TOKENS` tokens, re-priced with the context
    cut to :data:`COMPACTED_CONTEXT_TOKENS` (what ``/compact`` leaves).

Tips are computed independently: where two touch the same request, their
savings overlap and do not add up. A tip saving a cent a month or less is not
listed, and no tip suggests what is already in use. Pure: no clock, files or env.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

from tokenbuddy.core.lineage import lineages
from tokenbuddy.core.model_ids import claude_family
from tokenbuddy.core.money import dollars
from tokenbuddy.core.projects import project_name
from tokenbuddy.core.records import CLAUDE_CODE, PromptMark, UsageRecord
from tokenbuddy.core.units import HOUR_MS, MINUTE_MS
from tokenbuddy.core.wording import counted

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

TipId = Literal[
    "cheaper-model",
    "cache-ttl",
    "cache-health",
    "premium-modes",
    "draft-in-free-chat",
    "subagent-share",
    "idle-context",
]
TIP_IDS: tuple[TipId, ...] = get_args(TipId)

SONNET_MODEL = "claude-sonnet-4-6"
"""Opus requests are re-priced on this Sonnet ($3/$15 per MTok): what ``/model sonnet``
chose through 2026, and dearer than Sonnet 5, so the saving errs low."""
HAIKU_MODEL = "claude-haiku-4-5"
"""Explore subagents on Sonnet are re-priced on this Haiku ($1/$5), the model the built-in
Explore agent was made for (Haiku 5.5 is cheaper still, so the saving errs low)."""
ROUTINE_MAX_OUTPUT_TOKENS = 300
"""An Opus reply this short (thinking included) did no long reasoning: a tool call or a
short answer. A third of real Opus main-thread requests qualify."""
SUBAGENT_SHARE_MIN = 0.40
"""Subagents above this share of Claude Code spend get a tip of their own."""
EXPLORE_AGENTS = frozenset({"explore"})
"""Subagent types (lower case) that only search and read: fine on Haiku."""
FIXED_MODEL_AGENTS = frozenset({"aside_question", "compact"})
"""Side requests (``/btw``, compaction) that run on the session's model: no frontmatter."""
CACHE_WARM_GAP_MS = 5 * MINUTE_MS
"""A gap shorter than this keeps a 5-minute cache warm."""
CACHE_OPEN_MS = HOUR_MS
"""A lineage with a request this recent may still come back within the hour."""
CACHE_POOR_RATIO = 0.80
"""A lineage reading less than this share of its input from cache is poorly cached;
healthy Claude Code sessions read 90-98 %."""
CACHE_MIN_REQUESTS = 4
"""Fewest warm requests (see :func:`warm_pairs`) a lineage needs to be judged; its hit
ratio is taken over those, so a cold start or a pause does not count against it."""
CACHE_SHRINK_RATIO = 0.6
"""A prompt under this share of the previous one was compacted: its rewrite is due."""
LONG_CONTEXT_TOKENS = 200_000
"""Input beyond which long-context pricing tiers start."""
CHAT_MIN_PROMPTS = 4
"""Prompts in a row, each answered by a single request, that make a chat-like opening."""
IDLE_CONTEXT_TOKENS = 100_000
"""Context (all input) a request must re-send to count as huge..."""
IDLE_REPLY_TOKENS = 200
"""...for a reply shorter than this..."""
IDLE_MIN_REQUESTS = 5
"""...this many times in one session."""
COMPACTED_CONTEXT_TOKENS = 30_000
"""What a session carries after ``/compact`` or ``/clear``: system prompt, tools,
CLAUDE.md and a summary."""
MIN_SAVING_USD_PER_MONTH = 0.01
DAYS_PER_MONTH = 30
EVIDENCE_SESSIONS = 3
"""Sessions named in a tip's evidence, the largest savings first."""


class PricedRequest(NamedTuple):
    """A request from the ledger with the cost it was priced at (None: unpriced model)."""

    record: UsageRecord
    cost_usd: float | None


@dataclass(frozen=True, slots=True)
class Tip:
    """One way to spend less, with the evidence and the arithmetic behind it."""

    id: TipId
    title: str
    why: str
    """Plain English: why this costs money and why the change is safe."""
    evidence: tuple[str, ...]
    """Which sessions or projects, how many requests: short plain lines."""
    action: str
    """The exact setting, command or habit to change."""
    method: str
    """How the saving was computed."""
    saving_usd_per_month: float
    saving_usd_in_window: float
    window_days: float
    requests_counted: int

    def as_dict(self) -> dict[str, Any]:
        """The JSON form ``tokenbuddy tips --json`` prints."""
        return {
            "id": self.id,
            "title": self.title,
            "saving_usd_per_month": round(self.saving_usd_per_month, 2),
            "saving_usd_in_window": round(self.saving_usd_in_window, 4),
            "why": self.why,
            "evidence": list(self.evidence),
            "action": self.action,
            "method": self.method,
            "window_days": round(self.window_days, 3),
            "requests_counted": self.requests_counted,
        }


@dataclass(frozen=True, slots=True)
class TipContext:
    """The window the tips look at and the price database they re-price with."""

    now_ms: int
    window_days: float
    reprice: Callable[[UsageRecord], float | None]

    def monthly(self, usd: float) -> float:
        """A saving over the window, scaled to 30 days."""
        return usd * DAYS_PER_MONTH / self.window_days

    def difference(self, actual: UsageRecord, counterfactual: UsageRecord) -> float | None:
        """What ``actual`` cost beyond ``counterfactual``; None when either is unpriced."""
        before, after = self.reprice(actual), self.reprice(counterfactual)
        return None if before is None or after is None else before - after

    def scaling(self) -> str:
        """The sentence every method ends with."""
        days = _days(self.window_days)
        return f"Summed over the last {days} days and scaled to a month (× 30 / {days})."


@dataclass(slots=True)
class _SessionSaving:
    project: str
    usd: float = 0.0
    requests: int = 0
    detail: str = ""


@dataclass(slots=True)
class _Tally:
    """The requests one tip counted and what they would have saved, per session."""

    usd: float = 0.0
    requests: int = 0
    sessions: dict[str, _SessionSaving] = field(default_factory=dict)

    def add(self, record: UsageRecord, usd: float) -> None:
        """Count one request saving ``usd``."""
        self.usd += usd
        self.requests += 1
        entry = self.sessions.setdefault(record.session_id, _SessionSaving(record.project))
        entry.usd += usd
        entry.requests += 1

    def top_sessions(self) -> list[str]:
        """One evidence line per session, the largest savings first."""
        ranked = sorted(self.sessions.items(), key=lambda item: -item[1].usd)
        return [
            f"{project_name(s.project)} · session {sid[:8]}: {counted(s.requests, 'request')}, "
            f"{dollars(s.usd)} over the window{s.detail}"
            for sid, s in ranked[:EVIDENCE_SESSIONS]
        ]

    def merge(self, other: _Tally) -> None:
        """Add another tally's requests to this one."""
        self.usd += other.usd
        self.requests += other.requests
        for session_id, theirs in other.sessions.items():
            mine = self.sessions.setdefault(session_id, _SessionSaving(theirs.project))
            mine.usd += theirs.usd
            mine.requests += theirs.requests

    @property
    def projects(self) -> int:
        """Distinct projects counted."""
        return len({s.project for s in self.sessions.values()})


def _days(days: float) -> str:
    return f"{days:.1f}".removesuffix(".0")


def _tip(
    ctx: TipContext,
    tally: _Tally,
    tip_id: TipId,
    *,
    title: str,
    why: str,
    summary: str,
    action: str,
    method: str,
    details: Sequence[str] | None = None,
) -> Tip | None:
    """The tip, or None when it saves a cent a month or less.

    Its evidence is ``summary`` then ``details`` (by default, the top sessions).
    """
    monthly = ctx.monthly(tally.usd)
    if monthly <= MIN_SAVING_USD_PER_MONTH:
        return None
    return Tip(
        id=tip_id,
        title=title,
        why=why,
        evidence=(summary, *(tally.top_sessions() if details is None else details)),
        action=action,
        method=f"{method} {ctx.scaling()}",
        saving_usd_per_month=monthly,
        saving_usd_in_window=tally.usd,
        window_days=ctx.window_days,
        requests_counted=tally.requests,
    )


# -- helpers on records ------------------------------------------------------------------


def prompt_tokens(record: UsageRecord) -> int:
    """All input a request sent: plain, written to cache and read from cache."""
    return record.input_tokens + record.cache_write_tokens + record.cache_read_tokens


def _is_subagent(record: UsageRecord) -> bool:
    """Subagent work whose model the user chooses (not ``/btw`` or compaction)."""
    return record.is_sidechain and record.agent_type not in FIXED_MODEL_AGENTS


def subagent_target(record: UsageRecord) -> str | None:
    """The cheaper model a subagent request is re-priced on, or None to leave it."""
    family = claude_family(record)
    if not _is_subagent(record):
        return None
    if family == "opus":
        return SONNET_MODEL
    if family == "sonnet" and record.agent_type.lower() in EXPLORE_AGENTS:
        return HAIKU_MODEL
    return None


def _is_routine_opus(record: UsageRecord) -> bool:
    return (
        not record.is_sidechain
        and claude_family(record) == "opus"
        and record.output_tokens <= ROUTINE_MAX_OUTPUT_TOKENS
    )


def _switch_saving(ctx: TipContext, record: UsageRecord, model: str) -> float | None:
    """The model's share of a request's cost: both sides in standard speed."""
    standard = record._replace(speed="")
    return ctx.difference(standard, standard._replace(model=model))


# -- cheaper-model and subagent-share ------------------------------------------------------


def _model_tally(ctx: TipContext, records: Iterable[UsageRecord]) -> _Tally:
    """Savings of re-pricing each record on its cheaper model (subagent or routine Opus)."""
    tally = _Tally()
    for record in records:
        target = subagent_target(record) if record.is_sidechain else SONNET_MODEL
        saving = _switch_saving(ctx, record, target) if target else None
        if saving is not None and saving > 0:
            tally.add(record, saving)
    return tally


def _routine_summary(routine: int, tally: _Tally) -> str:
    """What cheaper-model counted: routine Opus requests, subagent requests, where."""
    summary = (
        f"{counted(routine, 'main-thread Opus request')} with at most "
        f"{ROUTINE_MAX_OUTPUT_TOKENS} output tokens"
    )
    if tally.requests > routine:
        helpers = counted(tally.requests - routine, "subagent request")
        summary += f", {helpers} (on Opus, or Explore agents on Sonnet)"
    sessions, projects = counted(len(tally.sessions), "session"), counted(tally.projects, "project")
    return f"{summary}, in {sessions} across {projects}"


def cheaper_model_tip(
    requests: Sequence[PricedRequest], ctx: TipContext, *, subagents: bool = True
) -> Tip | None:
    """Routine Opus work (and, with ``subagents``, subagent work) on a cheaper model."""
    records = [p.record for p in requests]
    tally = _model_tally(ctx, (r for r in records if _is_routine_opus(r)))
    routine = tally.requests
    if subagents:
        tally.merge(_model_tally(ctx, (r for r in records if subagent_target(r))))
    return _tip(
        ctx,
        tally,
        "cheaper-model",
        title="Use a cheaper model for routine work",
        why=(
            "Most of an agent session is tool calls and short answers. Opus requests that "
            f"replied in {ROUTINE_MAX_OUTPUT_TOKENS} tokens or fewer (thinking included) did no "
            "long reasoning, and Sonnet handles such steps at a fraction of Opus's price; "
            "subagents that search and read do fine a tier lower still."
        ),
        summary=_routine_summary(routine, tally),
        action=(
            'Start routine sessions with `/model sonnet` (or make it the default: "model": '
            '"sonnet" in ~/.claude/settings.json; `/model opusplan` keeps Opus for planning). '
            "For subagents, set `model: sonnet` (Explore-type: `model: haiku`) in the agent's "
            "frontmatter. Pick the model at the start: switching mid-session rewrites the cache."
        ),
        method=(
            f"Each counted request re-priced with its own token counts on {SONNET_MODEL} "
            f"(Explore subagents on Sonnet: on {HAIKU_MODEL}), at its own date and in standard "
            "speed on both sides, with the same price database; saving = its cost on its model "
            "− that cost. Assumes the same tokens (context, cache hits, output) on the cheaper "
            "model."
        ),
    )


def subagent_spend(requests: Iterable[PricedRequest]) -> tuple[float, float]:
    """(subagent spend, all Claude Code spend) over ``requests``."""
    subagent = total = 0.0
    for request in requests:
        if request.record.source != CLAUDE_CODE or request.cost_usd is None:
            continue
        total += request.cost_usd
        if _is_subagent(request.record):
            subagent += request.cost_usd
    return subagent, total


def _agent_lines(ctx: TipContext, records: Iterable[UsageRecord]) -> list[str]:
    """Saving per (agent type, model), the largest first."""
    groups: dict[tuple[str, str, str], _Tally] = defaultdict(_Tally)
    for record in records:
        target = subagent_target(record)
        saving = _switch_saving(ctx, record, target) if target else None
        if target and saving is not None and saving > 0:
            groups[(record.agent_type, record.model, target)].add(record, saving)
    ranked = sorted(groups.items(), key=lambda item: -item[1].usd)
    return [
        f"{agent} agents on {model}: {counted(t.requests, 'request')}, "
        f"{dollars(t.usd)} less on {target}"
        for (agent, model, target), t in ranked[:EVIDENCE_SESSIONS]
    ]


def subagent_share_tip(requests: Sequence[PricedRequest], ctx: TipContext) -> Tip | None:
    """Subagents carrying more than :data:`SUBAGENT_SHARE_MIN` of spend on a dear model."""
    subagent, total = subagent_spend(requests)
    if total <= 0 or subagent / total <= SUBAGENT_SHARE_MIN:
        return None
    helpers = [p.record for p in requests if subagent_target(p.record)]
    tally = _model_tally(ctx, helpers)
    return _tip(
        ctx,
        tally,
        "subagent-share",
        title="Put subagents on a cheaper model",
        why=(
            f"Subagents did {subagent / total:.0%} of your Claude Code spend. Each starts a "
            "fresh context and many run in parallel, so their model choice weighs heavily; "
            "delegated search and implementation rarely needs the top model."
        ),
        summary=(
            f"Subagents: {dollars(subagent)} of {dollars(total)} Claude Code spend "
            f"({subagent / total:.0%})"
        ),
        action=(
            "Set `model: sonnet` (Explore-type agents: `model: haiku`) in the frontmatter of "
            ".claude/agents/<name>.md, or CLAUDE_CODE_SUBAGENT_MODEL in the env block of "
            "~/.claude/settings.json; ask for fewer parallel agents."
        ),
        method=(
            f"Subagent requests on Opus re-priced on {SONNET_MODEL}, Explore-type ones on "
            f"Sonnet on {HAIKU_MODEL}, with their own token counts at their own date, in "
            "standard speed on both sides, with the same price database; others (already on "
            "Haiku, /btw, compaction) are not counted."
        ),
        details=_agent_lines(ctx, helpers),
    )


# -- cache-ttl and cache-health -------------------------------------------------------------


def _always_warm(lineage: Sequence[UsageRecord], now_ms: int) -> bool:
    """Over, and no gap between its requests long enough to cool a 5-minute cache."""
    if now_ms - lineage[-1].ts_ms < CACHE_OPEN_MS:
        return False
    return all(b.ts_ms - a.ts_ms < CACHE_WARM_GAP_MS for a, b in pairwise(lineage))


def as_5m_writes(record: UsageRecord) -> UsageRecord:
    """``record`` with its 1-hour cache writes made 5-minute ones."""
    return record._replace(cache_write_5m_tokens=record.cache_write_tokens, cache_write_1h_tokens=0)


def cache_ttl_tip(requests: Sequence[PricedRequest], ctx: TipContext) -> Tip | None:
    """1-hour cache writes where a 5-minute cache would have stayed warm throughout."""
    tally, tokens = _Tally(), 0
    claude = (p.record for p in requests if p.record.source == CLAUDE_CODE)
    for lineage in lineages(claude):
        if not _always_warm(lineage, ctx.now_ms):
            continue
        for record in (r for r in lineage if r.cache_write_1h_tokens):
            saving = ctx.difference(record, as_5m_writes(record))
            if saving is not None and saving > 0:
                tally.add(record, saving)
                tokens += record.cache_write_1h_tokens
    return _tip(
        ctx,
        tally,
        "cache-ttl",
        title="Use the 5-minute cache in sessions without breaks",
        why=(
            "A 1-hour cache write costs 2× the input price, a 5-minute one 1.25×. These "
            "sessions never paused 5 minutes between requests, so a 5-minute cache would have "
            "stayed warm all along: the hour was paid for and never used."
        ),
        summary=(
            f"{counted(tokens, 'token')} written to the 1-hour cache by "
            f"{counted(tally.requests, 'request')} in {counted(len(tally.sessions), 'session')} "
            "with no gap of 5 minutes or more"
        ),
        action=(
            'Add "env": {"FORCE_PROMPT_CACHING_5M": "1"} to ~/.claude/settings.json '
            '(Claude Code 2.1.108+; newer versions also take "promptCacheTtl": "5m") for '
            "sessions you run without breaks; keep the hour if you often step away 5-60 min."
        ),
        method=(
            "Each 1-hour cache write in a finished session thread (main thread or one subagent, "
            "no request in the last hour) whose requests were all under 5 minutes apart, "
            "re-priced as a 5-minute write with the same price database; saving = the "
            "difference. Assumes the same cache hits, since the cache never went cold."
        ),
    )


def hit_ratio(records: Iterable[UsageRecord]) -> float:
    """Cache reads over all input; 1 when there was no input."""
    reads = total = 0
    for record in records:
        reads += record.cache_read_tokens
        total += prompt_tokens(record)
    return reads / total if total else 1.0


def warm_pairs(lineage: Sequence[UsageRecord]) -> Iterator[tuple[UsageRecord, UsageRecord]]:
    """(previous, request) for every request that should have found the previous one's
    context cached: under 5 minutes after it, on the same model, not compacted."""
    for previous, current in pairwise(lineage):
        if current.model != previous.model:
            continue
        if current.ts_ms - previous.ts_ms >= CACHE_WARM_GAP_MS:
            continue
        if prompt_tokens(current) >= CACHE_SHRINK_RATIO * prompt_tokens(previous):
            yield previous, current


def cache_misses(lineage: Sequence[UsageRecord]) -> Iterator[tuple[UsageRecord, int]]:
    """(request, tokens it wrote or sent plainly although the previous request had just
    cached them), over :func:`warm_pairs`."""
    for previous, current in warm_pairs(lineage):
        cached = previous.cache_read_tokens + previous.cache_write_tokens
        missed = min(cached, prompt_tokens(current)) - current.cache_read_tokens
        if missed > 0:
            yield current, missed


def read_instead(record: UsageRecord, tokens: int) -> UsageRecord:
    """``record`` with ``tokens`` of its writes (5-minute first, then 1-hour), then of its
    plain input, read from cache instead."""
    from_5m = min(tokens, record.cache_write_5m_tokens)
    from_1h = min(tokens - from_5m, record.cache_write_1h_tokens)
    from_input = min(tokens - from_5m - from_1h, record.input_tokens)
    return record._replace(
        cache_write_5m_tokens=record.cache_write_5m_tokens - from_5m,
        cache_write_1h_tokens=record.cache_write_1h_tokens - from_1h,
        input_tokens=record.input_tokens - from_input,
        cache_read_tokens=record.cache_read_tokens + from_5m + from_1h + from_input,
    )


def _poor_lineages(requests: Sequence[PricedRequest]) -> dict[str, list[list[UsageRecord]]]:
    """Claude Code lineages judged poorly cached, per session."""
    claude = (p.record for p in requests if p.record.source == CLAUDE_CODE)
    poor: dict[str, list[list[UsageRecord]]] = defaultdict(list)
    for lineage in lineages(claude):
        warm = [current for _, current in warm_pairs(lineage)]
        if len(warm) >= CACHE_MIN_REQUESTS and hit_ratio(warm) < CACHE_POOR_RATIO:
            poor[lineage[0].session_id].append(lineage)
    return poor


def cache_health_tip(requests: Sequence[PricedRequest], ctx: TipContext) -> Tip | None:
    """Poorly cached lineages: what their needless cache rewrites cost."""
    tally = _Tally()
    for session_id, poor in _poor_lineages(requests).items():
        for record, missed in (miss for lineage in poor for miss in cache_misses(lineage)):
            saving = ctx.difference(record, read_instead(record, missed))
            if saving is not None and saving > 0:
                tally.add(record, saving)
        if session_id in tally.sessions:
            ratio = hit_ratio(r for lineage in poor for _, r in warm_pairs(lineage))
            tally.sessions[session_id].detail = f", hit ratio {ratio:.0%}"
    return _tip(
        ctx,
        tally,
        "cache-health",
        title="Fix what breaks the prompt cache",
        why=(
            "Healthy sessions read 90% or more of their input from cache, at a tenth of the "
            f"input price. These read less than {CACHE_POOR_RATIO:.0%} even between requests "
            "minutes apart: they rewrote context the previous request had just cached, which "
            "happens when something changes the start of the prompt between requests."
        ),
        summary=(
            f"{counted(tally.requests, 'request')} rewrote recently cached context, in "
            f"{counted(len(tally.sessions), 'session')} with a hit ratio under "
            f"{CACHE_POOR_RATIO:.0%}"
        ),
        action=(
            "Look for what changes the start of the prompt mid-session: hooks, MCP servers or "
            "an --append-system-prompt that inject timestamps or other changing text, MCP "
            "servers connecting and disconnecting. Update Claude Code (`claude update`) and "
            "watch the cache line of `/usage`."
        ),
        method=(
            "Warm requests are those under 5 minutes after the previous request of the same "
            "session thread (main thread or one subagent), on the same model and not "
            f"compacted. In threads with at least {CACHE_MIN_REQUESTS} warm requests reading "
            f"under {CACHE_POOR_RATIO:.0%} of their input from cache, each warm request's "
            "shortfall against what the previous request had cached is re-priced as cache "
            "reads instead of writes (5-minute writes first, then 1-hour, then plain input), "
            "with the same price database; saving = the difference."
        ),
    )


# -- premium-modes ---------------------------------------------------------------------------


_CONTEXT_FIELDS = ("cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens")


def base_tier_pieces(record: UsageRecord) -> list[UsageRecord]:
    """``record`` split into pieces of at most 200k input each, output in the first: priced
    one by one, they cost what the whole would at the base (short-context) tier."""
    sizes = [getattr(record, name) for name in _CONTEXT_FIELDS] + [record.input_tokens]
    pieces: list[list[int]] = [[0, 0, 0, 0]]
    room = LONG_CONTEXT_TOKENS
    for kind, size in enumerate(sizes):
        left = size
        while left:
            if room == 0:
                pieces.append([0, 0, 0, 0])
                room = LONG_CONTEXT_TOKENS
            taken = min(left, room)
            pieces[-1][kind] += taken
            left, room = left - taken, room - taken
    first, *rest = (_with_context(record, *piece) for piece in pieces)
    return [first] + [
        piece._replace(output_tokens=0, reasoning_tokens=0, web_search_requests=0) for piece in rest
    ]


def _with_context(
    record: UsageRecord, reads: int, writes_5m: int, writes_1h: int, plain: int
) -> UsageRecord:
    return record._replace(
        cache_read_tokens=reads,
        cache_write_5m_tokens=writes_5m,
        cache_write_1h_tokens=writes_1h,
        input_tokens=plain,
    )


def _base_tier_cost(ctx: TipContext, record: UsageRecord) -> float | None:
    costs = [ctx.reprice(piece) for piece in base_tier_pieces(record)]
    return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)


def premium_parts(ctx: TipContext, record: UsageRecord) -> dict[str, float]:
    """What fast mode, US-only inference and the long-context tier each added to a request."""
    if not (record.speed or record.inference_geo or prompt_tokens(record) > LONG_CONTEXT_TOKENS):
        return {}
    standard_speed = record._replace(speed="")
    standard = standard_speed._replace(inference_geo="")
    costs = {
        "actual": ctx.reprice(record),
        "fast mode": ctx.reprice(standard_speed),
        "US-only inference": ctx.reprice(standard),
        "long context": ctx.reprice(standard),
    }
    if prompt_tokens(record) > LONG_CONTEXT_TOKENS:
        costs["long context"] = _base_tier_cost(ctx, standard)
    values = list(costs.values())
    if any(value is None for value in values):
        return {}
    names = list(costs)
    found = {names[i]: (values[i - 1] or 0.0) - (values[i] or 0.0) for i in range(1, len(values))}
    return {part: usd for part, usd in found.items() if usd > 1e-12}


def _premium_action(modes: Iterable[str]) -> str:
    actions = {
        "fast mode": "turn fast mode off with `/fast` unless you are waiting on the answer",
        "US-only inference": (
            "set the workspace's default inference geo back to global in the Claude Console "
            "(Settings > Data residency) unless policy needs US-only"
        ),
        "long context": (
            "`/compact` before the context passes 200k tokens, and pick the standard model "
            "over its 1M variant (`/model sonnet`, not `sonnet[1m]`)"
        ),
    }
    text = "; ".join(actions[mode] for mode in actions if mode in modes)
    return text[:1].upper() + text[1:] + "."


def premium_modes_tip(requests: Sequence[PricedRequest], ctx: TipContext) -> Tip | None:
    """Spend on fast mode, US-only inference and long-context pricing."""
    tally = _Tally()
    per_mode: dict[str, _Tally] = defaultdict(_Tally)
    for request in requests:
        parts = premium_parts(ctx, request.record)
        for mode, usd in parts.items():
            per_mode[mode].add(request.record, usd)
        if parts:
            tally.add(request.record, sum(parts.values()))
    return _tip(
        ctx,
        tally,
        "premium-modes",
        title="Drop premium modes you do not need",
        why=(
            "Fast mode, US-only inference (1.1×) and requests over 200k input tokens (priced "
            "at the long-context tier on every token) each cost more than standard mode for "
            "the same tokens."
        ),
        summary=", ".join(
            f"{mode}: {counted(t.requests, 'request')}, {dollars(t.usd)} extra"
            for mode, t in per_mode.items()
        ),
        action=_premium_action(per_mode),
        method=(
            "Each premium request re-priced with the same price database in standard speed, "
            "global inference and, above 200k input, at the base tier (the request priced in "
            "pieces of at most 200k input); saving = the difference."
        ),
    )


# -- draft-in-free-chat ----------------------------------------------------------------------


def chat_opening(prompts: Sequence[int], replies: Sequence[PricedRequest]) -> list[PricedRequest]:
    """The requests answering a session's chat-like opening, or none.

    ``prompts`` are the session's prompt times and ``replies`` its main-thread requests,
    both in time order. The opening is the run of prompts from the first on that are each
    followed by exactly one request before the next prompt (an agent using tools sends
    several); it counts from :data:`CHAT_MIN_PROMPTS` prompts on.
    """
    if not prompts or not replies or replies[0].record.ts_ms < prompts[0]:
        return []
    opening: list[PricedRequest] = []
    index = 0
    for end in [*prompts[1:], None]:
        start = index
        while index < len(replies) and (end is None or replies[index].record.ts_ms < end):
            index += 1
        if index - start != 1:
            break
        opening.append(replies[start])
    return opening if len(opening) >= CHAT_MIN_PROMPTS else []


def _by_session(
    requests: Sequence[PricedRequest], prompts: Sequence[PromptMark]
) -> Iterator[tuple[list[int], list[PricedRequest]]]:
    """(prompt times, main-thread requests) of every session with a prompt, in time order."""
    asked: dict[tuple[str, str], list[int]] = defaultdict(list)
    for prompt in prompts:
        asked[(prompt.source, prompt.session_id)].append(prompt.ts_ms)
    answered: dict[tuple[str, str], list[PricedRequest]] = defaultdict(list)
    for request in requests:
        if not request.record.is_sidechain:
            answered[(request.record.source, request.record.session_id)].append(request)
    for key, times in asked.items():
        replies = sorted(answered.get(key, []), key=lambda p: p.record.ts_ms)
        yield sorted(times), replies


def draft_in_free_chat_tip(
    requests: Sequence[PricedRequest], prompts: Sequence[PromptMark], ctx: TipContext
) -> Tip | None:
    """Sessions opening with a tool-free back-and-forth a free chat could have taken."""
    tally = _Tally()
    for times, replies in _by_session(requests, prompts):
        for request in chat_opening(times, replies):
            tally.add(request.record, request.cost_usd or 0.0)
    return _tip(
        ctx,
        tally,
        "draft-in-free-chat",
        title="Plan and explore in a chat you already have",
        why=(
            f"These sessions opened with {CHAT_MIN_PROMPTS} or more prompts each answered by a "
            "single request, with no tool loop in between: talk, not agent work. A chat you "
            "already pay for absorbs that at no extra cost, and the agent can start from the "
            "settled plan."
        ),
        summary=(
            f"{counted(len(tally.sessions), 'session')} opened with a tool-free "
            f"back-and-forth: {counted(tally.requests, 'request')}"
        ),
        action=(
            "Draft, plan and ask exploratory questions in a chat your company already pays for "
            "(e.g. Microsoft 365 Copilot Chat), then start the agent with the result: "
            '`claude "<the plan>"`.'
        ),
        method=(
            "The ledger has no tool-use flag, so a session's opening counts as chat when its "
            f"first {CHAT_MIN_PROMPTS} or more human prompts were each followed by exactly one "
            "main-thread request before the next prompt; saving = the whole cost of those "
            "requests as priced in the ledger (the chat costs nothing extra)."
        ),
    )


# -- idle-context ----------------------------------------------------------------------------


def trim_context(record: UsageRecord, keep: int) -> UsageRecord:
    """``record`` re-sending only ``keep`` input tokens: the excess comes off cache reads
    first, then 5-minute and 1-hour writes, then plain input (the cheapest first)."""
    excess = max(prompt_tokens(record) - keep, 0)
    kept = []
    for size in (*(getattr(record, name) for name in _CONTEXT_FIELDS), record.input_tokens):
        taken = min(excess, size)
        kept.append(size - taken)
        excess -= taken
    return _with_context(record, *kept)


def _is_idle(record: UsageRecord) -> bool:
    return (
        not record.is_sidechain
        and prompt_tokens(record) > IDLE_CONTEXT_TOKENS
        and record.output_tokens < IDLE_REPLY_TOKENS
    )


def idle_context_tip(requests: Sequence[PricedRequest], ctx: TipContext) -> Tip | None:
    """Sessions that keep re-sending a huge context for tiny replies."""
    idle: dict[str, list[UsageRecord]] = defaultdict(list)
    for request in requests:
        if _is_idle(request.record):
            idle[request.record.session_id].append(request.record)
    tally = _Tally()
    for records in idle.values():
        if len(records) < IDLE_MIN_REQUESTS:
            continue
        for record in records:
            saving = ctx.difference(record, trim_context(record, COMPACTED_CONTEXT_TOKENS))
            if saving is not None and saving > 0:
                tally.add(record, saving)
    return _tip(
        ctx,
        tally,
        "idle-context",
        title="Compact or clear long sessions between tasks",
        why=(
            "Every request re-sends the whole conversation. These sessions sent over "
            f"{IDLE_CONTEXT_TOKENS // 1000}k tokens of context, again and again, for replies "
            f"under {IDLE_REPLY_TOKENS} tokens: most of that context was no longer needed."
        ),
        summary=(
            f"{counted(tally.requests, 'request')} re-sent over {IDLE_CONTEXT_TOKENS // 1000}k "
            f"tokens for replies under {IDLE_REPLY_TOKENS} tokens, in "
            f"{counted(len(tally.sessions), 'session')}"
        ),
        action=(
            "Run `/compact` when a task is done and the next builds on it, `/clear` when it "
            "does not (Codex: `/compact` or `/new`)."
        ),
        method=(
            f"Sessions with at least {IDLE_MIN_REQUESTS} such requests; each re-priced with "
            f"its context cut to {COMPACTED_CONTEXT_TOKENS // 1000}k tokens (about what a "
            "session holds after /compact: system prompt, tools, CLAUDE.md, a summary), the "
            "cut taken from cache reads first, with the same price database; saving = the "
            "difference. The compaction request itself is not deducted."
        ),
    )


# -- all together ----------------------------------------------------------------------------


def find_tips(
    requests: Sequence[PricedRequest],
    prompts: Sequence[PromptMark],
    *,
    now_ms: int,
    window_days: float,
    reprice: Callable[[UsageRecord], float | None],
) -> list[Tip]:
    """Every tip worth more than a cent a month, the largest saving first.

    ``requests`` and ``prompts`` are the window's (``window_days`` up to ``now_ms``);
    ``reprice`` prices a counterfactual request with the ledger's price database.
    """
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    ctx = TipContext(now_ms, window_days, reprice)
    priced = [p for p in requests if p.cost_usd is not None]
    share = subagent_share_tip(priced, ctx)
    found = [
        share,
        cheaper_model_tip(priced, ctx, subagents=share is None),
        cache_ttl_tip(priced, ctx),
        cache_health_tip(priced, ctx),
        premium_modes_tip(priced, ctx),
        draft_in_free_chat_tip(priced, prompts, ctx),
        idle_context_tip(priced, ctx),
    ]
    return sorted((t for t in found if t), key=lambda t: (-t.saving_usd_per_month, t.id))
