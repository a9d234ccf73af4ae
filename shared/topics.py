"""Kafka topic names (docs/architecture.md: contracts). Topics are created explicitly, never auto-created."""

CONTACTS = "omniroute.contacts"  # gateways -> router
ROUTING = "omniroute.routing"  # router -> everyone
AGENTS = "omniroute.agents"  # agent presence and state
MESSAGES = "omniroute.messages"  # conversation text, both ways
DEADLETTER = "omniroute.deadletter"  # failed validation or processing, with the reason

ALL = (CONTACTS, ROUTING, AGENTS, MESSAGES, DEADLETTER)
