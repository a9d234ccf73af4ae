"""The voice channel on the gateway SDK: produces contacts, reacts to assignments."""

from __future__ import annotations

from shared import topics
from shared.cloudevents import Envelope
from shared.events import VOICE, event_type
from shared.gateway import ChannelGateway

from .handlers import transfer
from .handlers.deps import Deps

ASSIGNED = event_type("contact.assigned")


class VoiceGateway(ChannelGateway):
    channel = VOICE
    subscribes = (topics.ROUTING,)
    deps: Deps | None = None  # set by bootstrap once the SIP side exists

    async def handle(self, event: Envelope) -> None:
        if event.type == ASSIGNED and self.deps is not None:
            # Returns at once: the REFER runs beside the consumer loop.
            transfer.contact_assigned(event, self.deps)
