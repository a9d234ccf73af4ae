"""Email gateway metrics (no addresses or case ids as labels)."""

from prometheus_client import Counter

RECEIVED = Counter("omniroute_email_received_total", "Inbound mail by source and outcome", ["source", "outcome"])
SENT = Counter("omniroute_email_sent_total", "Outbound mail by kind and result", ["kind", "result"])
ACK_SUPPRESSED = Counter("omniroute_email_ack_suppressed_total", "Auto-acks not sent, by reason", ["reason"])
SLA_ESCALATIONS = Counter("omniroute_email_sla_escalations_total", "Email contacts past first-response due")
SURVEY_SUPPRESSED = Counter("omniroute_email_survey_suppressed_total", "Survey mails not sent, by reason", ["reason"])
