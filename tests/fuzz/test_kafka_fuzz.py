"""Hypothesis-generated garbage on the contacts topic: every record the router can't read
goes to the dead-letter topic with a reason, and routing goes on."""

import pytest
from hypothesis import strategies as st

from shared import topics
from shared.cloudevents import InvalidEvent, decode
from tests.fuzz.cases import CASES, drawn
from tests.integration.conftest import harness, redis  # noqa: F401 -- re-exported fixtures
from tests.support.poll import until

pytestmark = pytest.mark.fuzz
RECORDS = 150
NAMES = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type", "ce_subject", "x-other"]
VALUES = [b"1.0", b"0.3", b"omniroute.contact.created.v1", b"omniroute.contact.ended.v1", b"omniroute.nope.v1",
          b"application/json", b"text/plain", b"2026-11-27T10:00:00Z", b"not a time", b"\xff\xfe", b""]


def records():
    header = st.tuples(st.sampled_from(NAMES), st.one_of(st.none(), st.sampled_from(VALUES), st.binary(max_size=30)))
    value = st.one_of(st.none(), st.binary(max_size=200), st.sampled_from([
        b"{}", b"[]", b"null", b'{"id": "c1"}', b'{"id": "c:1", "channel": "fax"}', b'{"contact_id": 5}',
        b'{"id": "c1", "channel": "chat", "customer": {"id": "k", "address": "' + b"x" * 400 + b'"}}']))
    return st.tuples(st.one_of(st.none(), st.binary(max_size=20)), value, st.lists(header, max_size=8))


async def test_garbage_on_the_contacts_topic_is_dead_lettered_and_routing_goes_on(harness):  # noqa: F811
    sent = []
    for key, value, headers in drawn(records(), RECORDS):
        if key is None and value is None:
            value = b""  # a Kafka record has one or the other
        meta = await harness.producer.send_and_wait(topics.CONTACTS, key=key, value=value, headers=headers)
        try:
            decode(key, value, headers)
        except InvalidEvent:
            sent.append((meta.partition, meta.offset))
    CASES["kafka records"] += len(sent)
    assert len(sent) > RECORDS // 2

    def dead_lettered():
        seen = {(int(h[b"omniroute_dlq_partition"]), int(h[b"omniroute_dlq_offset"]))
                for h in ({k.encode(): v for k, v in (r.headers or [])} for r in harness.deadletter.raw)
                if h.get(b"omniroute_dlq_topic") == topics.CONTACTS.encode() and b"omniroute_dlq_reason" in h}
        return set(sent) <= seen

    await until(dead_lettered, 60, what=f"all {len(sent)} unreadable records dead-lettered")
    reasons = {dict(r.headers)["omniroute_dlq_reason"] for r in harness.deadletter.raw}
    assert all(reasons) and len(reasons) > 3  # each says why, and they are not all the same

    await harness.agent("ann", {"support": 1})
    cid = await harness.contact()
    await harness.routing.wait("offer.issued", contact_id=cid)  # still routing
    assert harness.service.dead_loops() == []
