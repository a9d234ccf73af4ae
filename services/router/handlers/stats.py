"""Ops: events projected into service-level aggregates, the live report (per queue and
channel, staffing advice), and the post-contact survey."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError

from shared.clock import now_ms
from shared.cloudevents import Envelope
from shared.events import SurveySubmitted, event_type
from shared.survey import InvalidSurveyToken, verify

from ..adapters import stats_metrics as metrics
from ..adapters.stats_store import Record
from ..domain import SOURCE, sso, tenancy
from ..domain import commands as c
from ..domain.errors import Conflict, Forbidden, Invalid
from ..domain.ops import report, stats, windows
from .campaigns import recent_campaigns
from .deps import RouterDeps
from .sso import session_of

REPORTED_CAMPAIGNS = 10  # the newest, on every report


def config(deps: RouterDeps) -> stats.Config:
    policy = deps.policy.policy  # read each time: the policy may be reloaded
    sla = {(q, ch): int(s.target_s * 1000) for q, qp in policy.queues.items() for ch, s in qp.sla.items()}
    return stats.Config(sla_ms=sla, short_abandon_ms=int(deps.settings.short_abandon_s * 1000), tz=deps.tz,
                        costs={ch: cp.cost for ch, cp in policy.channels.items()})


async def project_stats(msg: c.ProjectStats, deps: RouterDeps) -> int:
    """Returns how many events were new (the rest were repeats)."""
    cfg = config(deps)
    records = [Record(partition, offset, event) for partition, offset, event in msg.events]
    done = await deps.stats.project(records, cfg, now_ms(), msg.highwater)
    deps.board.projected += len(records)
    for event, ctx, at in done:
        metrics.observe(deps.domain, event.type, event.data, at, ctx, cfg)
    return len(done)


async def build_report(deps: RouterDeps) -> dict:
    now = await deps.store.server_time_ms()
    policy = deps.policy.policy
    pairs = [(q, ch) for q, qp in policy.queues.items() for ch in qp.channels]
    sla = {}
    for q, ch in pairs:
        s = policy.queues[q].sla.get(ch)
        sla[(q, ch)] = (s.target_s, s.percent) if s else (0.0, 0.0)
    buckets = await deps.stats.buckets([*pairs, stats.CENTER], now, windows.day_of(now, deps.tz))
    built = report.build(
        now, deps.tz, sla, buckets, await deps.stats.waiting(pairs), await deps.stats.live(),
        await deps.store.staffing(policy))
    return {**built, "campaigns": await recent_campaigns(deps, REPORTED_CAMPAIGNS)}


async def refresh_stats(msg: c.RefreshStats, deps: RouterDeps) -> dict:
    snap = await build_report(deps)
    metrics.COLLECTOR.post(deps.domain, snap)
    deps.board.post(snap)
    return snap


async def get_stats(msg: c.GetStats, deps: RouterDeps) -> dict:
    if not msg.fresh and deps.board.latest:
        return deps.board.latest
    return await build_report(deps)


async def get_stats_history(msg: c.GetStatsHistory, deps: RouterDeps) -> list[dict]:
    return list(deps.board.history)


async def subscribe_stats(msg: c.SubscribeStats, deps: RouterDeps):
    return deps.board.subscribe()


async def unsubscribe_stats(msg: c.UnsubscribeStats, deps: RouterDeps) -> None:
    deps.board.unsubscribe(msg.subscription)


async def is_supervisor(msg: c.IsSupervisor, deps: RouterDeps) -> bool:
    """An admin or ops token, deployment-wide or of this domain (403: another domain's)."""
    s = deps.settings
    if tenancy.same(msg.token, s.admin_token) or tenancy.same(msg.token, s.ops_token):
        return True
    if sso.is_session_token(msg.token):
        tenancy.check_scope(tenancy.agent_token_domain(msg.token), deps.domain)
        session = await session_of(msg.token, deps)
        return session is not None and session.sees_ops
    owner = tenancy.scoped_domain(msg.token, s.domain_tokens, ("admin", "ops"))
    tenancy.check_scope(owner, deps.domain)
    return owner is not None


# -- survey ------------------------------------------------------------------------------
async def check_survey_link(msg: c.CheckSurveyLink, deps: RouterDeps) -> None:
    s = deps.settings
    try:
        verify(s.survey_secret.get_secret_value(), msg.token, msg.contact_id, s.survey_max_age_s, deps.domain)
    except InvalidSurveyToken as exc:
        raise Forbidden(str(exc)) from exc


async def submit_survey(msg: c.SubmitSurvey, deps: RouterDeps) -> SurveySubmitted:
    """Recorded once per contact as survey.submitted on omniroute.contacts."""
    await check_survey_link(c.CheckSurveyLink(msg.contact_id, msg.token), deps)
    try:
        survey = SurveySubmitted(contact_id=msg.contact_id, score=msg.score, comment=msg.comment or "",
                                 complaint=msg.complaint)
    except ValidationError as exc:
        raise Invalid(", ".join(".".join(map(str, e["loc"])) + ": " + e["msg"] for e in exc.errors())) from exc
    if not await deps.stats.claim_survey(msg.contact_id):
        raise Conflict("this survey was already answered")
    try:
        # A fixed event id: a retried publish is the same event, counted once. Stamped
        # with the router's clock, like every event the router's transitions emit.
        at = datetime.fromtimestamp(await deps.store.server_time_ms() / 1000, UTC)
        await deps.publisher.publish(Envelope(id=f"survey-{msg.contact_id}", source=SOURCE, key=msg.contact_id,
                                              type=event_type("survey.submitted"), data=survey, time=at,
                                              domain=deps.domain))
    except Exception:
        await deps.stats.release_survey(msg.contact_id)
        raise
    return survey
