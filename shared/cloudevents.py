"""CloudEvents 1.0 in Kafka binary mode: `ce_*` headers, JSON value, key = contact id.

`decode` turns raw Kafka records into a validated `Envelope` or raises `InvalidEvent`
with a reason fit for the dead-letter topic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from shared.events import DEFAULT_DOMAIN, DOMAIN_PATTERN, EVENT_MODELS, Model, utcnow

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type")

Headers = list[tuple[str, bytes]]


class InvalidEvent(ValueError):
    """An event that cannot be processed; `str(exc)` is the dead-letter reason."""


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    data: Model
    key: str
    time: datetime = field(default_factory=utcnow)
    subject: str | None = None
    # CloudEvents `sequence` extension: the order of the router transitions about one
    # contact (shared/ordering.py); None on events from gateways.
    sequence: str | None = None
    # `domain` extension: the routing domain (center, site, tenant) the contact belongs
    # to; absent means the default one.
    domain: str | None = None

    @property
    def topic(self) -> str:
        return EVENT_MODELS[self.type][1]

    @property
    def routing_domain(self) -> str:
        return self.domain or DEFAULT_DOMAIN


def new_event(type_: str, data: Model, *, source: str, key: str, id: str | None = None,
              domain: str | None = None) -> Envelope:
    return Envelope(id=id or str(uuid.uuid4()), source=source, type=type_, data=data, key=key, domain=domain)


def encode(event: Envelope) -> tuple[bytes, bytes, Headers]:
    """Key, value and headers of the Kafka record for `event`."""
    headers: Headers = [
        ("ce_specversion", SPECVERSION.encode()),
        ("ce_id", event.id.encode()),
        ("ce_source", event.source.encode()),
        ("ce_type", event.type.encode()),
        ("ce_time", event.time.isoformat().encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if event.subject:
        headers.append(("ce_subject", event.subject.encode()))
    if event.sequence:
        headers.append(("ce_sequence", event.sequence.encode()))
    if event.domain and event.domain != DEFAULT_DOMAIN:  # absent means the default
        headers.append(("ce_domain", event.domain.encode()))
    return event.key.encode(), event.data.model_dump_json().encode(), headers


def decode(key: bytes | None, value: bytes | None, headers: Headers | None) -> Envelope:
    """Validate a binary-mode CloudEvent; raise InvalidEvent naming what is wrong."""
    hdrs = {k: v for k, v in (headers or [])}
    empty = [k for k, v in hdrs.items() if v is None and (k.startswith("ce_") or k == "content-type")]
    if empty:  # Kafka allows a header without a value
        raise InvalidEvent(f"CloudEvents header(s) without a value: {', '.join(sorted(empty))}")
    missing = [h for h in REQUIRED_HEADERS if h not in hdrs]
    if missing:
        raise InvalidEvent(f"missing CloudEvents header(s): {', '.join(missing)}")
    try:
        attrs = {k: v.decode() for k, v in hdrs.items() if k.startswith("ce_") or k == "content-type"}
    except UnicodeDecodeError as exc:
        raise InvalidEvent(f"header is not UTF-8: {exc}") from exc
    if attrs["ce_specversion"] != SPECVERSION:
        raise InvalidEvent(f"unsupported ce_specversion {attrs['ce_specversion']!r}")
    ctype = attrs.get("content-type", CONTENT_TYPE)
    if not ctype.startswith(CONTENT_TYPE):
        raise InvalidEvent(f"unsupported content-type {ctype!r}")
    type_ = attrs["ce_type"]
    if type_ not in EVENT_MODELS:
        raise InvalidEvent(f"unknown ce_type {type_!r}")
    model = EVENT_MODELS[type_][0]
    try:
        data = model.model_validate_json(value or b"")
    except ValidationError as exc:
        raise InvalidEvent(f"invalid {type_} data: {_short(exc)}") from exc
    time = _parse_time(attrs.get("ce_time"))
    domain = attrs.get("ce_domain")
    if domain is not None and not DOMAIN_PATTERN.match(domain):
        raise InvalidEvent(f"ce_domain is not a routing domain name: {domain!r}")
    return Envelope(
        id=attrs["ce_id"], source=attrs["ce_source"], type=type_, data=data,
        key=(key or b"").decode(errors="replace"), time=time, subject=attrs.get("ce_subject"),
        sequence=attrs.get("ce_sequence"), domain=domain,
    )


def _parse_time(raw: str | None) -> datetime:
    if not raw:
        return utcnow()
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidEvent(f"ce_time is not RFC 3339: {raw!r}") from exc


def _short(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(body)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)
