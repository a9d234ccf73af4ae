"""A call's life in the gateway. Pure state; the handlers drive it.

    ringing -> ivr -> queued -> transferring -> connected -> ended
    (a failed transfer goes back to queued; so does an agent's transfer of a connected call)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

from .dialplan import Choice
from .sdp import Media
from .sip import Dialog


class Phase(StrEnum):
    RINGING = "ringing"  # INVITE received, not answered yet
    IVR = "ivr"  # answered, waiting for a menu digit
    QUEUED = "queued"  # a contact exists and waits for an agent
    TRANSFERRING = "transferring"  # REFER sent to the caller
    # With the agent. The caller's dialog is kept, so that an agent's transfer can move the
    # call on (a new REFER) and the end of the contact can end the call.
    CONNECTED = "connected"
    ENDED = "ended"


@dataclass
class Call:
    call_id: str
    ani: str  # caller number (From user)
    dnis: str  # dialled number (To user)
    dialog: Dialog
    media: Media | None
    local_tag: str
    invite_branch: str
    phase: Phase = Phase.RINGING
    contact_id: str | None = None
    menu: str | None = None
    digits: str = ""  # the IVR path, for the agent and for reports
    choice: Choice | None = None
    acked: bool = False
    callback: bool = False
    handed_over: bool = False  # an agent's phone has had it: its media no longer comes to us
    started: float = field(default_factory=time.monotonic)

    @property
    def live(self) -> bool:
        return self.phase != Phase.ENDED


def abandons(call: Call) -> bool:
    """Whether the caller leaving now must produce contact.ended: a contact exists and
    was not handed to an agent (transfer done) nor turned into a callback."""
    return call.contact_id is not None and not call.callback and call.phase in (
        Phase.RINGING, Phase.QUEUED, Phase.TRANSFERRING)
