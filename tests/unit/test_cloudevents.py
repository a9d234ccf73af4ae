import json

import pytest

from shared.cloudevents import InvalidEvent, decode, encode, new_event
from shared.events import ContactCreated, Customer, event_type

pytestmark = pytest.mark.unit
CREATED = event_type("contact.created")


def headers(**over):
    h = {"ce_specversion": b"1.0", "ce_id": b"e1", "ce_source": b"t", "ce_type": CREATED.encode()}
    h.update({k: v for k, v in over.items() if v is not None})
    return [(k, v) for k, v in h.items() if v != b"<drop>"]


def test_round_trip_in_binary_mode():
    contact = ContactCreated(id="c1", channel="chat", customer=Customer(id="u1", address="a@b.c"))
    key, value, hdrs = encode(new_event(CREATED, contact, source="gw", key="c1"))
    assert key == b"c1"
    assert dict(hdrs)["ce_type"] == CREATED.encode()
    assert dict(hdrs)["content-type"] == b"application/json"
    back = decode(key, value, hdrs)
    assert back.data == contact and back.source == "gw" and back.topic == "omniroute.contacts"


@pytest.mark.parametrize("over, reason", [
    ({"ce_id": b"<drop>"}, r"missing CloudEvents header\(s\): ce_id"),
    ({"ce_specversion": b"0.3"}, "unsupported ce_specversion"),
    ({"ce_type": b"omniroute.nope.v1"}, "unknown ce_type"),
    ({"content-type": b"text/plain"}, "unsupported content-type"),
    ({"ce_time": b"yesterday"}, "ce_time is not RFC 3339"),
])
def test_bad_headers_are_named(over, reason):
    value = json.dumps({"id": "c1", "channel": "chat", "customer": {"id": "u"}}).encode()
    with pytest.raises(InvalidEvent, match=reason):
        decode(b"c1", value, headers(**over))


def test_schema_errors_name_the_field():
    with pytest.raises(InvalidEvent) as exc:
        decode(b"c1", json.dumps({"id": "c1", "channel": "Chat!"}).encode(), headers())
    assert "channel" in str(exc.value) and "customer: Field required" in str(exc.value)


def test_non_json_value_is_invalid():
    with pytest.raises(InvalidEvent, match="invalid omniroute.contact.created.v1 data"):
        decode(b"c1", b"\xff{", headers())


def test_a_header_without_a_value_is_invalid_not_a_crash():
    value = json.dumps({"id": "c1", "channel": "chat", "customer": {"id": "u"}}).encode()
    with pytest.raises(InvalidEvent, match="without a value: ce_source"):
        decode(b"c1", value, [*headers(ce_source=b"<drop>"), ("ce_source", None)])
