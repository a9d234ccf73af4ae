"""CloudEvents 1.0 over Kafka: written in binary mode (`ce_*` headers, JSON value, key =
contact id); read in binary or structured mode (`content-type:
application/cloudevents+json`, the whole event as one JSON object), as the Kafka protocol
binding asks.

`decode` turns raw Kafka records into a validated `Envelope` or raises `InvalidEvent`
with a reason fit for the dead-letter topic. Extension attributes it does not know are
kept on the envelope and written out again.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import re

from pydantic import ValidationError

from shared import tracing
from shared.events import DEFAULT_DOMAIN, DOMAIN_PATTERN, EVENT_MODELS, Model, utcnow

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
STRUCTURED = "application/cloudevents+json"
REQUIRED = ("specversion", "id", "source", "type")
# Attributes the envelope has fields for; any other is an extension kept as it came.
KNOWN = {"specversion", "id", "source", "type", "time", "subject", "sequence", "domain", "datacontenttype", "data"}
EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")  # CloudEvents attribute naming

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
    # Extension attributes this version does not know (e.g. `traceparent`): kept, and
    # written out again, so they pass through every service.
    extensions: dict[str, str] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        return EVENT_MODELS[self.type][1]

    @property
    def routing_domain(self) -> str:
        return self.domain or DEFAULT_DOMAIN


def new_event(type_: str, data: Model, *, source: str, key: str, id: str | None = None,
              domain: str | None = None) -> Envelope:
    """An event made now: it carries the trace it is made in (`traceparent`), if any."""
    trace = tracing.current_traceparent()
    return Envelope(id=id or str(uuid.uuid4()), source=source, type=type_, data=data, key=key, domain=domain,
                    extensions={"traceparent": trace} if trace else {})


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
    headers += [(f"ce_{name}", value.encode()) for name, value in event.extensions.items()]
    return event.key.encode(), event.data.model_dump_json().encode(), headers


def structured(event: Envelope) -> dict[str, Any]:
    """The event as one JSON object (structured mode, as webhooks carry it)."""
    doc = {"specversion": SPECVERSION, "id": event.id, "source": event.source, "type": event.type,
           "time": event.time.isoformat(), "datacontenttype": CONTENT_TYPE, "subject": event.subject,
           "sequence": event.sequence, "domain": event.domain, **event.extensions,
           "data": event.data.model_dump(mode="json")}
    return {k: v for k, v in doc.items() if v is not None}


def decode(key: bytes | None, value: bytes | None, headers: Headers | None) -> Envelope:
    """Validate a CloudEvent in binary or structured mode; raise InvalidEvent naming what
    is wrong."""
    hdrs = {k: v for k, v in (headers or [])}
    empty = [k for k, v in hdrs.items() if v is None and (k.startswith("ce_") or k == "content-type")]
    if empty:  # Kafka allows a header without a value
        raise InvalidEvent(f"CloudEvents header(s) without a value: {', '.join(sorted(empty))}")
    try:
        ctype = hdrs.get("content-type", CONTENT_TYPE.encode()).decode()
        if ctype.startswith(STRUCTURED):
            attrs, data = _structured(value)
            return _envelope(attrs, data, key, "")
        attrs = {k[3:]: v.decode() for k, v in hdrs.items() if k.startswith("ce_")}
        attrs["datacontenttype"] = ctype
    except UnicodeDecodeError as exc:
        raise InvalidEvent(f"header is not UTF-8: {exc}") from exc
    return _envelope(attrs, value or b"", key, "ce_")


def _structured(value: bytes | None) -> tuple[dict[str, str], Any]:
    """The attributes and data of a structured-mode event (one JSON object)."""
    try:
        doc = json.loads(value or b"")
    except ValueError as exc:
        raise InvalidEvent(f"structured CloudEvent is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidEvent("structured CloudEvent is not a JSON object")
    data = doc.pop("data", None)
    attrs = {k: v if isinstance(v, str) else json.dumps(v) for k, v in doc.items()}
    attrs.setdefault("datacontenttype", CONTENT_TYPE)
    return attrs, data


def _envelope(attrs: dict[str, str], data: Any, key: bytes | None, prefix: str) -> Envelope:
    """`prefix`: "ce_" for binary mode, so reasons name the header the producer wrote."""
    missing = [prefix + a for a in REQUIRED if a not in attrs]
    if missing:
        kind = "header" if prefix else "attribute"
        raise InvalidEvent(f"missing CloudEvents {kind}(s): {', '.join(missing)}")
    if attrs["specversion"] != SPECVERSION:
        raise InvalidEvent(f"unsupported {prefix}specversion {attrs['specversion']!r}")
    if not attrs["datacontenttype"].startswith(CONTENT_TYPE):
        raise InvalidEvent(f"unsupported content-type {attrs['datacontenttype']!r}")
    type_ = attrs["type"]
    if type_ not in EVENT_MODELS:
        raise InvalidEvent(f"unknown {prefix}type {type_!r}")
    model = EVENT_MODELS[type_][0]
    try:
        payload = model.model_validate_json(data) if isinstance(data, bytes | str) else model.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(f"invalid {type_} data: {_short(exc)}") from exc
    domain = attrs.get("domain")
    if domain is not None and not DOMAIN_PATTERN.match(domain):
        raise InvalidEvent(f"{prefix}domain is not a routing domain name: {domain!r}")
    extensions = {k: v for k, v in attrs.items() if k not in KNOWN and EXTENSION_NAME.match(k)}
    return Envelope(
        id=attrs["id"], source=attrs["source"], type=type_, data=payload,
        key=(key or b"").decode(errors="replace"), time=_parse_time(attrs.get("time"), prefix),
        subject=attrs.get("subject"), sequence=attrs.get("sequence"), domain=domain, extensions=extensions,
    )


def _parse_time(raw: str | None, prefix: str = "ce_") -> datetime:
    if not raw:
        return utcnow()
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidEvent(f"{prefix}time is not RFC 3339: {raw!r}") from exc


def _short(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(body)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)
