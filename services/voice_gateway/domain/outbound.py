"""The requests of a call we place (a callback to a customer through the trunk): the
INVITE, the ACK of its answer, a CANCEL, and the dialog a 2xx answer makes (RFC 3261
13.2.1, 17.1.1.3, 12.1.2). Pure."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass

from sipmessage import Response

from .sip import Dialog, _finish, new_branch, new_tag


@dataclass(frozen=True)
class Outbound:
    target: str  # sip:<number>@<trunk>
    call_id: str
    local: str  # our From, with our tag
    to: str  # their To, as we send it (no tag yet)
    via: str  # "SIP/2.0/UDP host:port", without the branch
    contact: str  # our Contact URI
    branch: str  # the INVITE's (its CANCEL and a non-2xx ACK share it)
    cseq: int = 1  # 2 and on: the INVITE sent again with credentials (RFC 3261 22.2)

    @property
    def local_tag(self) -> str:
        return self.local.rsplit(";tag=", 1)[1]


def again(call: Outbound) -> Outbound:
    """The same call's INVITE sent again (after a challenge): a new transaction."""
    return dataclasses.replace(call, branch=new_branch(), cseq=call.cseq + 1)


def new_call(number: str, trunk: str, public_host: str, via: str, contact: str) -> Outbound:
    target = f"sip:{number}@{trunk}"
    return Outbound(target=target, call_id=f"{uuid.uuid4().hex}@{public_host}",
                    local=f"<sip:omniroute@{public_host}>;tag={new_tag()}", to=f"<{target}>", via=via,
                    contact=contact, branch=new_branch())


def _head(call: Outbound, method: str, uri: str, branch: str, to: str, cseq: int = 1) -> list[str]:
    return [f"{method} {uri} SIP/2.0", f"Via: {call.via};branch={branch};rport", "Max-Forwards: 70",
            f"From: {call.local}", f"To: {to}", f"Call-ID: {call.call_id}", f"CSeq: {cseq} {method}"]


def invite(call: Outbound, sdp: bytes, identity: str = "", credentials: tuple[str, str] | None = None) -> bytes:
    """`credentials`: (header name, value) answering the trunk's digest challenge."""
    head = _head(call, "INVITE", call.target, call.branch, call.to, call.cseq) + [f"Contact: <{call.contact}>"]
    headers = [("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY"), *([credentials] if credentials else [])]
    if identity:
        headers.append(("Subject", identity))
    return _finish(head, headers, sdp, "application/sdp")


def cancel(call: Outbound) -> bytes:
    """Stop ringing (RFC 3261 9.1): the INVITE's branch, URI, From and To."""
    return _finish(_head(call, "CANCEL", call.target, call.branch, call.to, call.cseq), [], b"", None)


def ack_failure(call: Outbound, response: Response) -> bytes:
    """ACK of a non-2xx final answer: part of the INVITE transaction (same branch)."""
    return _finish(_head(call, "ACK", call.target, call.branch, response.headers["To"], call.cseq), [], b"", None)


def dialog_of(call: Outbound, response: Response) -> Dialog:
    """The dialog a 2xx answer makes, with us as the caller (UAC): its CSeq goes on from
    the INVITE's; the remote target is the answer's Contact."""
    contacts = response.contact
    target = str(contacts[0].uri) if contacts else call.target
    return Dialog(call_id=call.call_id, local=call.local, remote=response.headers["To"], remote_target=target,
                  local_contact=call.contact, cseq=call.cseq,
                  route_set=[str(a) for a in reversed(response.record_route)])


def ack_answer(call: Outbound, dialog: Dialog) -> bytes:
    """ACK of a 2xx answer: a transaction of its own (new branch), along the dialog's
    route to the remote target, with the INVITE's CSeq number."""
    uri, routes = dialog.routing()
    lines = _head(call, "ACK", uri, new_branch(), dialog.remote, call.cseq)
    return _finish(lines[:3] + [f"Route: {r}" for r in routes] + lines[3:], [], b"", None)
