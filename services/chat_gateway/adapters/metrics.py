"""Chat gateway metrics (no conversation or customer ids as labels)."""

from prometheus_client import Counter, Gauge

CHATS_STARTED = Counter("omniroute_chat_started_total", "Chats started (contact.created acknowledged by Kafka)")
CHATS_RESUMED = Counter("omniroute_chat_resumed_total", "Conversations resumed with a token")
CUSTOMER_MESSAGES = Counter("omniroute_chat_customer_messages_total", "Messages sent by customers")
SOCKETS_REFUSED = Counter("omniroute_chat_sockets_refused_total", "Customer sockets closed for bad input, by close code",
                          ["code"])
SURVEYS = Counter("omniroute_chat_surveys_total", "Post-chat surveys answered in the widget")
CUSTOMERS_DROPPED = Counter("omniroute_chat_dropped_total", "Chats ended because the customer's socket never came back")
DEFLECTIONS = Counter("omniroute_chat_deflections_total",
                      "Self-service articles shown before a chat (offered) and that solved it (accepted)",
                      ["queue", "outcome"])
OPEN_SOCKETS = Gauge("omniroute_chat_open_sockets", "Customer sockets open on this replica")
