"""Voice gateway metrics (no caller numbers or contact ids as labels)."""

from prometheus_client import Counter, Gauge, Histogram

SIP_REQUESTS = Counter("omniroute_voice_sip_requests_total", "SIP requests received, by method", ["method"])
BAD_MESSAGES = Counter("omniroute_voice_sip_bad_messages_total", "Malformed SIP messages (answered 400 when possible)",
                       ["transport"])
CALLS = Counter("omniroute_voice_calls_total", "Calls by how they left the gateway", ["outcome"])
ACTIVE_CALLS = Gauge("omniroute_voice_active_calls", "Calls the gateway holds now")
SETUP_SECONDS = Histogram("omniroute_voice_call_setup_seconds", "INVITE received to 200 OK sent",
                          buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
DIGITS = Counter("omniroute_voice_dtmf_digits_total", "DTMF digits received, by how they came", ["via"])
TRANSFERS = Counter("omniroute_voice_transfers_total", "REFER transfers to agents, by result", ["result"])
CALLBACKS = Counter("omniroute_voice_callbacks_total",
                    "Callback calls placed, by outcome: answered, busy, no_answer, failed", ["outcome"])
ANNOUNCEMENTS = Counter("omniroute_voice_announcements_total", "Wait announcements said to queued callers")
REGISTERED = Gauge("omniroute_voice_registered", "1 while the registrar holds our binding (sip_registrar set)")
