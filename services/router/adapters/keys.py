"""The Redis key layout of routing state: the one place that spells key names.

Python renders a key with `key(name, *parts)`; the Lua transitions get the same names
as generated helpers (`k_<name>(...)` and `K_<NAME>` constants, see `lua_prelude`), so
a key can't be spelled two ways. Event type names in Lua come from the event contract
(`EVENT_MODELS`) the same way.
"""

from __future__ import annotations

import re

from shared.events import DEFAULT_DOMAIN, EVENT_MODELS

PREFIX = "or"
# A routing domain is the unit of atomicity: all its keys share one hash tag, so every
# transition is one script in one Redis Cluster slot, and domains spread over the cluster.

# name -> template after the domain's prefix; `{param}`s are the parts a key is rendered from.
TEMPLATES: dict[str, str] = {
    "agent": "agent:{id}",
    "agent_offers": "agent:{id}:offers",  # pending offer ids
    "agent_contacts": "agent:{id}:contacts",  # assigned contact ids
    "contact": "contact:{id}",
    "contact_declined": "contact:{id}:declined",  # agents skipped for this contact
    "offer": "offer:{id}",
    "pool": "pool:{q}:{s}:{ch}",  # available agents who meet (queue, step), for channel
    "staff": "staff:{q}:{s}:{ch}",  # logged-in agents who meet (queue, step)
    "serving": "serving:{q}:{s}:{ch}",  # of those, the ones working now (not on a break): wait estimates
    "returning": "returning:{q}:{s}:{ch}",  # of the staff, those on a planned break, by when due back (ms)
    "wait": "wait:{q}:{s}:{ch}",  # waiting contacts, score = arrival - tier lead
    "prefwait": "prefwait:{id}",  # returning customers held for their last agent
    "conv": "conv:{id}",  # a conversation's last agent
    "token": "token:{hash}",  # agent token (sha256) -> agent id
    "session": "session:{hash}",  # single sign-on session token (sha256) -> session (JSON; expires)
    "signin": "signin:{state}",  # a sign-in under way: its PKCE verifier and nonce (minutes)
    "customer": "customer:{id}",  # local profile (PUT /v1/customers): overrides the CRM
    "crm": "crm:{id}",  # the CRM's last answer about a customer, and when (expires)
    "customer_agent": "custagent:{id}",  # a returning customer's last agent, across channels
    "customer_history": "history:{id}",  # a customer's recent contact ids by time (ids may hold ":")
    "seen": "seen:{source}:{id}",  # event dedupe marker
    "outcome": "outcome:{id}",  # an agent's surveys and handle time per intent and channel (expires)
    "leaders": "leaders:{q}:{intent}:{ch}",  # agents by expected outcome, best_outcome queues (expires)
    "arrivals": "arrivals:{q}:{ch}",  # arrival pace per priority lead (EWMA gap, last; expires)
    "handle_time": "aht:{q}:{ch}",  # agent time per contact recently, offer to end (EWMA, ms; expires)
    "campaign": "campaign:{id}",  # its spec, state and counters (expires after it finishes)
    "campaign_targets": "campaign:{id}:targets",  # target id -> its address, attempts, status
    "campaign_due": "campaign:{id}:due",  # targets to try, by when (ms)
    "webhook": "webhook:{id}",  # a webhook subscription (JSON); deleted with it
    "webhook_log": "webhook:{id}:log",  # its latest deliveries, newest first (capped)
    "webhook_sent": "webhook:{id}:sent:{event}",  # an event it took (drops a redelivery; a day)
}
# The domain's fixed keys, in the order every script receives them as KEYS (policy first:
# the scripts find the domain's prefix from it).
CONSTANTS: dict[str, str] = {
    "policy": "policy",  # the compiled policy the scripts read
    "timers": "timers",  # durable timers, fired by any replica
    "outbox": "outbox",  # events a transition caused, published by the relay
    "clock": "clock",  # last arrival time handed out (strict FIFO)
    "seq_offer": "seq:offer",
    "seq_rr": "seq:rr",
    "agents": "agents",  # every agent id
    "policy_doc": "policy:doc",
    "policy_source": "policy:source",
    "policy_version": "policy:version",
    "waiting": "waiting",  # hash queue -> contacts in its waiting sets
    "webhooks": "webhooks",  # ids of the domain's webhook subscriptions
    "campaigns": "campaigns",  # ids of the running campaigns (the pacer's work)
    "campaign_index": "campaign:index",  # every campaign id by creation (expired ones dropped when listed)
    "dnc": "dnc",  # do-not-contact numbers and addresses
}
# Not keys: the start of a family of them (the sorted-set indexes an agent is kept in).
PREFIXES: dict[str, str] = {"pool_prefix": "pool:", "returning_prefix": "returning:"}
PARAM = re.compile(r"\{(\w+)\}")


def domain_prefix(domain: str = DEFAULT_DOMAIN) -> str:
    """`or:{<domain>}:`: the hash tag keeps a domain's keys in one cluster slot."""
    return f"{PREFIX}:{{{domain}}}:"


def key(name: str, *parts: object, domain: str = DEFAULT_DOMAIN) -> str:
    """A key of the layout: key("wait", "support", 0, "chat") -> "or:{default}:wait:support:0:chat"."""
    template = TEMPLATES[name]
    params = PARAM.findall(template)
    if len(params) != len(parts):
        raise TypeError(f"key {name!r} takes {params}, got {len(parts)} parts")
    return domain_prefix(domain) + template.format(**dict(zip(params, map(str, parts), strict=True)))


def constant(name: str, domain: str = DEFAULT_DOMAIN) -> str:
    return domain_prefix(domain) + CONSTANTS[name]


def script_keys(domain: str = DEFAULT_DOMAIN) -> list[str]:
    """KEYS of every transition script: the domain's fixed keys. The keys a script finds
    through them (an agent from a pool, a contact's offer) share their hash tag."""
    return [constant(n, domain) for n in CONSTANTS]


# The default domain's fixed keys, for tools and tests that look at one domain.
TIMERS, OUTBOX, CLOCK = constant("timers"), constant("outbox"), constant("clock")
AGENTS, POLICY = constant("agents"), constant("policy")


def _lua_function(name: str, template: str) -> str:
    params = PARAM.findall(template)
    pieces = [f"'{p}'" if i % 2 == 0 else p for i, p in enumerate(PARAM.split(template)) if p or i % 2]
    body = " .. ".join(["P", *(x for x in pieces if x != "''")])
    return f"local function k_{name}({', '.join(params)}) return {body} end"


def _lua_events() -> str:
    names = sorted(t.removeprefix("omniroute.").removesuffix(".v1") for t in EVENT_MODELS)
    rows = ",\n".join(f"  ['{n}'] = 'omniroute.{n}.v1'" for n in names)
    return "local EVENT_TYPES = {\n" + rows + "\n}"


def lua_prelude() -> str:
    """Key helpers and event type names for the Lua transitions (prepended to each)."""
    lines = ["-- Generated by services/router/adapters/keys.py: key names and event types.",
             "-- KEYS are the domain's fixed keys; P, its prefix, is read off the first.",
             f"local P = string.sub(KEYS[1], 1, -{len(CONSTANTS['policy']) + 1})"]
    lines += [_lua_function(n, t) for n, t in TEMPLATES.items()]
    lines += [f"local K_{n.upper()} = KEYS[{i}]" for i, n in enumerate(CONSTANTS, start=1)]
    lines += [f"local K_{n.upper()} = P .. '{v}'" for n, v in PREFIXES.items()]
    lines.append(_lua_events())
    return "\n".join(lines) + "\n"
