"""OpenTelemetry tracing: one trace per contact, across services. Off unless an OTLP
endpoint or exporter is configured by the standard variables (`OTEL_EXPORTER_OTLP_ENDPOINT`,
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_TRACES_EXPORTER`; `OTEL_SDK_DISABLED=true`
turns it off); then FastAPI, httpx, Redis and aiokafka are instrumented and spans go to
the OTLP/HTTP exporter.

A contact's trace crosses Kafka in the CloudEvents distributed-tracing extension
(`ce_traceparent`, W3C Trace Context): an event is published with the context it was made
in, and a consumer handles it in a span whose parent that is."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import structlog
from opentelemetry import context, trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

Envelope = Any  # shared.cloudevents.Envelope, which imports this module

PROPAGATOR = TraceContextTextMapPropagator()
tracer = trace.get_tracer("omniroute")
_configured = False


def wanted() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return any(os.environ.get(v) for v in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) \
        or os.environ.get("OTEL_TRACES_EXPORTER", "none") not in ("", "none")


def setup(service: str) -> bool:
    """Once per process, when wanted: the SDK with the OTLP exporter and the library
    instrumentations. `service` names the process unless OTEL_SERVICE_NAME does."""
    global _configured
    if _configured or not wanted():
        return _configured
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or service})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    RedisInstrumentor().instrument()
    AIOKafkaInstrumentor().instrument()
    _configured = True
    return True


def enabled() -> bool:
    return _configured


@contextlib.contextmanager
def joining(traceparent: str | None, name: str) -> Iterator[None]:
    """Work done for a contact from elsewhere (an agent's accept, in its own HTTP
    request): a span in the contact's trace, linked to the request's."""
    if not _configured or not traceparent:
        yield
        return
    links = [trace.Link(trace.get_current_span().get_span_context())]
    parent = PROPAGATOR.extract({"traceparent": traceparent})
    with tracer.start_as_current_span(name, context=parent, links=links):
        yield


def instrument_app(app) -> None:
    """FastAPI's spans (HTTP and WebSocket), when tracing is on."""
    if _configured:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app)


def current_traceparent() -> str | None:
    """The W3C traceparent of the span in progress, if one is recording."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def handling(event: Envelope, service: str) -> Iterator[None]:
    """A consumer handles `event` in a span continuing the event's trace; the log lines
    meanwhile carry its trace_id and contact_id."""
    contact_id = getattr(event.data, "contact_id", None) or getattr(event.data, "id", None)
    with contextlib.ExitStack() as stack:
        stack.enter_context(structlog.contextvars.bound_contextvars(contact_id=contact_id))
        if _configured:
            parent = PROPAGATOR.extract({"traceparent": event.extensions.get("traceparent", "")})
            span = stack.enter_context(tracer.start_as_current_span(
                f"{service} process {event.type}", context=parent, kind=trace.SpanKind.CONSUMER,
                attributes={"messaging.system": "kafka", "cloudevents.event_id": event.id,
                            "cloudevents.event_type": event.type, "omniroute.contact_id": contact_id or ""}))
            stack.enter_context(structlog.contextvars.bound_contextvars(
                trace_id=format(span.get_span_context().trace_id, "032x")))
        yield


@contextlib.contextmanager
def publishing(event: Envelope, service: str) -> Iterator[None]:
    """A relay publishes an event whose trace it carries (`traceparent` from where it was
    made): a producer span in that trace, whose context the event then carries on."""
    if not _configured or "traceparent" not in event.extensions:
        yield
        return
    parent = PROPAGATOR.extract({"traceparent": event.extensions["traceparent"]})
    token = context.attach(parent)
    try:
        with tracer.start_as_current_span(f"{service} publish {event.type}", kind=trace.SpanKind.PRODUCER,
                                          attributes={"cloudevents.event_id": event.id}):
            event.extensions["traceparent"] = current_traceparent() or event.extensions["traceparent"]
            yield
    finally:
        context.detach(token)


def log_trace_ids(logger, method, event_dict):
    """structlog processor: the trace_id of the span in progress on every line."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict.setdefault("trace_id", format(ctx.trace_id, "032x"))
    return event_dict
