"""A developer adds a channel with the gateway SDK: a new slug in the policy, a
ChannelGateway subclass, and the router treats it like any other channel."""

import pytest
import yaml

from shared.cloudevents import Envelope
from shared.events import ContactCreated, Customer, event_type
from shared.gateway import ChannelGateway
from shared.policy import DEFAULT_POLICY_FILE as DEFAULT_POLICY
from shared.settings import CommonSettings
from tests.support.poll import until
from tests.support.router_harness import infra_address, positioned, running_router

pytestmark = pytest.mark.integration


class SmsGateway(ChannelGateway):
    """What a developer writes: the channel's slug and reactions to routing events."""

    channel = "sms"

    def __init__(self, settings):
        super().__init__(settings)
        self.assigned: dict[str, str] = {}  # contact -> agent
        self.outbox: list[tuple[str, str]] = []  # (conversation, text) to send as SMS

    async def handle(self, event: Envelope) -> None:
        if event.type == event_type("contact.assigned") and event.data.channel == self.channel:
            self.assigned[event.data.contact_id] = event.data.agent_id
        elif event.type == event_type("message.posted") and event.data.sender == "agent":
            self.outbox.append((event.data.conversation_id, event.data.text))


@pytest.fixture
def sms_policy(tmp_path):
    policy = yaml.safe_load(DEFAULT_POLICY.read_text())
    policy["channels"]["sms"] = {"cost": 25}
    policy["queues"]["support"]["channels"].append("sms")
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


@pytest.fixture
async def sms(infra, redis):
    gateway = SmsGateway(CommonSettings(kafka_bootstrap=infra_address(infra, "kafka_bootstrap")))
    await gateway.start()
    await positioned(gateway.consumer, "sms gateway assignment")
    yield gateway
    await gateway.stop()


async def test_a_new_channel_routes_like_the_others(infra, sms_policy, sms):
    async with running_router(infra, policy_file=sms_policy) as h:
        ann = await h.agent("ann", {"support": 2}, channels=["sms"])
        contact = ContactCreated(id="sms-1", channel="sms", conversation_id="+15550100",
                                 customer=Customer(id="cust-sms", address="+15550100"))
        await sms.submit_contact(contact)  # returns once Kafka acknowledged

        offer = await h.routing.wait("offer.issued", contact_id="sms-1")
        assert offer.data.agent_id == "ann" and offer.data.channel == "sms"
        assert (await h.http.post(f"/v1/offers/{offer.data.offer_id}/accept", headers=ann)).status_code == 200
        await until(lambda: sms.assigned.get("sms-1") == "ann", what="sms gateway told of the assignment")

        r = await h.http.post("/v1/contacts/sms-1/messages", headers=ann, json={"text": "Hi, how can I help?"})
        assert r.status_code == 202, r.text
        await until(lambda: ("+15550100", "Hi, how can I help?") in sms.outbox, what="agent reply at the gateway")


async def test_a_gateway_names_its_channel_and_submits_only_that():
    with pytest.raises(TypeError, match="set `channel`"):
        ChannelGateway(CommonSettings())
    email = ContactCreated(id="e-1", channel="email", customer=Customer(id="c"))
    with pytest.raises(ValueError, match="sms gateway cannot submit a email contact"):
        await SmsGateway(CommonSettings()).submit_contact(email)
