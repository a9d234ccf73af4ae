"""The router's handlers: plain functions of (message, deps), one per message type."""

from __future__ import annotations

from ..domain import commands as c
from . import agents, contacts, desktop, policy, stats

HANDLERS = {
    c.RouteEvent: contacts.route_event,
    c.FeedDesktop: desktop.feed_desktop,
    c.ProjectStats: stats.project_stats,
    c.Authenticate: agents.authenticate,
    c.CreateAgent: agents.create_agent,
    c.UpdateAgent: agents.update_agent,
    c.GetAgent: agents.get_agent,
    c.SetAgentState: agents.set_agent_state,
    c.Heartbeat: agents.heartbeat,
    c.ListOffers: agents.list_offers,
    c.ListAgentContacts: agents.list_agent_contacts,
    c.AcceptOffer: agents.accept_offer,
    c.DeclineOffer: agents.decline_offer,
    c.GetContact: contacts.get_contact,
    c.CompleteContact: contacts.complete_contact,
    c.TransferContact: contacts.transfer_contact,
    c.PostAgentMessage: contacts.post_agent_message,
    c.GetTranscript: contacts.get_transcript,
    c.GetCustomerContext: contacts.get_customer_context,
    c.SetCustomer: contacts.set_customer,
    c.GetCustomer: contacts.get_customer,
    c.GetQueues: policy.get_queues,
    c.GetPolicy: policy.get_policy,
    c.GetQueueHours: policy.get_queue_hours,
    c.ApplyPolicy: policy.apply_policy,
    c.SyncPolicy: policy.sync_policy,
    c.DueTimers: policy.due_timers,
    c.FireTimer: policy.fire_timer,
    c.RelayOutbox: policy.relay_outbox,
    c.OpenDesktop: desktop.open_desktop,
    c.CloseDesktop: desktop.close_desktop,
    c.IsSupervisor: stats.is_supervisor,
    c.RefreshStats: stats.refresh_stats,
    c.GetStats: stats.get_stats,
    c.GetStatsHistory: stats.get_stats_history,
    c.SubscribeStats: stats.subscribe_stats,
    c.UnsubscribeStats: stats.unsubscribe_stats,
    c.CheckSurveyLink: stats.check_survey_link,
    c.SubmitSurvey: stats.submit_survey,
}
