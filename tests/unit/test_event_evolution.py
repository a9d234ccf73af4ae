"""Event evolution (docs/architecture.md): events the previous release (0.1) wrote,
one of each type as its encoder produced them (tests/unit/fixtures/events_0.1.jsonl),
still decode; a newer producer's unknown fields and extension attributes are accepted
and kept; structured mode reads the same event as binary mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.cloudevents import InvalidEvent, decode, encode
from shared.events import EVENT_MODELS

pytestmark = pytest.mark.unit
PREVIOUS = Path(__file__).with_name("fixtures") / "events_0.1.jsonl"


def records(path: Path) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    out = []
    for line in path.read_text().splitlines():
        r = json.loads(line)
        out.append((r["key"].encode(), r["value"].encode(), [(k, v.encode()) for k, v in r["headers"]]))
    return out


def test_every_event_the_previous_release_wrote_still_decodes():
    decoded = [decode(*r) for r in records(PREVIOUS)]
    assert {e.type for e in decoded} == set(EVENT_MODELS) - {  # new since 0.1
        "omniroute.contact.transferred.v1", "omniroute.contact.deferred.v1",
        "omniroute.deflection.offered.v1", "omniroute.deflection.accepted.v1",
        "omniroute.campaign.attempt_ended.v1", "omniroute.campaign.message_requested.v1"}
    assigned = next(e for e in decoded if e.type.endswith("contact.assigned.v1"))
    assert assigned.data.callback is None  # a field added since: its default
    overflowed = next(e for e in decoded if e.type.endswith("contact.overflowed.v1"))
    assert overflowed.data.keeps_place is False


def test_a_newer_producers_fields_and_extensions_are_accepted_and_kept():
    key, value, headers = records(PREVIOUS)[0]  # contact.created
    newer = json.loads(value) | {"sentiment": "angry", "customer": json.loads(value)["customer"] | {"crm": "X-9"}}
    headers = [*headers, ("ce_traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    event = decode(key, json.dumps(newer).encode(), headers)
    assert event.data.sentiment == "angry" and event.data.customer.crm == "X-9"
    assert event.extensions == {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    _, again, out_headers = encode(event)  # passed on: nothing lost
    assert json.loads(again)["sentiment"] == "angry" and json.loads(again)["customer"]["crm"] == "X-9"
    assert ("ce_traceparent", headers[-1][1]) in out_headers


def test_structured_mode_reads_as_binary_mode():
    key, value, headers = records(PREVIOUS)[0]
    attrs = {k.removeprefix("ce_"): v.decode() for k, v in headers if k.startswith("ce_")}
    doc = {**attrs, "datacontenttype": "application/json", "data": json.loads(value), "traceparent": "00-ab-cd-01"}
    structured = decode(key, json.dumps(doc).encode(), [("content-type", b"application/cloudevents+json")])
    binary = decode(key, value, headers)
    assert (structured.id, structured.type, structured.data) == (binary.id, binary.type, binary.data)
    assert structured.extensions == {"traceparent": "00-ab-cd-01"}
    with pytest.raises(InvalidEvent, match="missing CloudEvents attribute"):
        decode(key, json.dumps({"data": {}}).encode(), [("content-type", b"application/cloudevents+json")])
    with pytest.raises(InvalidEvent, match="not a JSON object"):
        decode(key, b"[1]", [("content-type", b"application/cloudevents+json")])


def test_a_known_field_of_the_wrong_type_is_still_refused():
    key, value, headers = records(PREVIOUS)[0]
    with pytest.raises(InvalidEvent, match="channel"):
        decode(key, json.dumps(json.loads(value) | {"channel": 7}).encode(), headers)
