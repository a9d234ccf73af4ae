"""SIP messages (RFC 3261): parsing on top of `sipmessage`, validation, stream framing
and building responses and in-dialog requests. Pure: bytes in, bytes out."""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass, field

from sipmessage import Address, Message, Request, Response
from sipmessage.parameters import Parameters

MAGIC_COOKIE = "z9hG4bK"
MAX_MESSAGE = 65_535  # one UDP datagram; also the cap for a TCP message
METHOD = re.compile(r"^[A-Z][A-Z0-9._!%*+`'~-]*$")
SUPPORTED = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY")
DIALOG_HEADERS = ("Via", "From", "To", "Call-ID", "CSeq")
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length"}
SERVER = "Omniroute voice gateway"


class BadMessage(ValueError):
    """A message we must answer with 400 (or drop, when it can't be answered)."""


def parse(data: bytes) -> Request | Response:
    """Parse and validate one SIP message; raise BadMessage saying what is wrong."""
    if len(data) > MAX_MESSAGE:
        raise BadMessage("message too large")
    try:
        msg = Message.parse(data)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise BadMessage(f"unparsable message: {exc}") from exc
    try:
        _validate(msg)
    except BadMessage:
        raise
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise BadMessage(f"invalid header: {exc}") from exc
    return msg


def _validate(msg: Request | Response) -> None:
    for name in DIALOG_HEADERS:
        if not msg.headers.get(name):
            raise BadMessage(f"missing {name} header")
    if not msg.via:
        raise BadMessage("missing Via header")
    msg.from_address, msg.to_address  # noqa: B018 -- parse them or fail here
    cseq = msg.cseq
    if not 0 <= cseq.sequence < 2**31:
        raise BadMessage("CSeq number out of range")
    if isinstance(msg, Request):
        if not METHOD.match(msg.method):
            raise BadMessage(f"bad method {msg.method!r}")
        if cseq.method != msg.method:
            raise BadMessage("CSeq method does not match the request method")
    length = msg.content_length
    if length is not None:
        if length < 0 or length > len(msg.body):
            raise BadMessage("Content-Length does not match the body")
        msg.body = msg.body[:length]


# -- TCP framing (RFC 3261 §18.3: Content-Length is mandatory on streams) -----------

class FramingError(ValueError):
    """The stream can't be split into messages any more: answer 400 and close."""


def split_stream(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete messages at the head of `buffer`, and the incomplete rest."""
    messages = []
    while True:
        buffer = buffer.lstrip(b"\r\n")  # CRLF keep-alives between messages
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_MESSAGE:
                raise FramingError("header section too large")
            return messages, buffer
        length = _content_length(buffer[:end])
        total = end + 4 + length
        if total > MAX_MESSAGE:
            raise FramingError("message too large")
        if len(buffer) < total:
            return messages, buffer
        messages.append(buffer[:total])
        buffer = buffer[total:]


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            try:
                length = int(value.strip())
            except ValueError as exc:
                raise FramingError("Content-Length is not a number") from exc
            if length < 0:
                raise FramingError("negative Content-Length")
            return length
    raise FramingError("Content-Length is required on a stream transport")


# -- responses ------------------------------------------------------------------

def response(req: Request, code: int, reason: str, *, to_tag: str | None = None,
             headers: list[tuple[str, str]] = (), body: bytes = b"", content_type: str | None = None) -> bytes:
    """A response echoing the request's Via, From, To, Call-ID and CSeq (§8.2.6.2), and
    for a response that makes a dialog its Record-Route (§12.1.1: the proxies that asked
    to stay in the path)."""
    lines = [f"SIP/2.0 {code} {reason}"]
    lines += [f"Via: {v}" for v in req.headers.getlist("Via")]
    if req.method == "INVITE" and 100 < code < 300:
        lines += [f"Record-Route: {v}" for v in req.headers.getlist("Record-Route")]
    to = req.headers["To"]
    if to_tag and "tag" not in req.to_address.parameters:
        to = f"{to};tag={to_tag}"
    lines += [f"From: {req.headers['From']}", f"To: {to}", f"Call-ID: {req.call_id}",
              f"CSeq: {req.headers['CSeq']}"]
    return _finish(lines, headers, body, content_type)


def raw_error_response(data: bytes, code: int, reason: str, why: str = "") -> bytes | None:
    """Best-effort response to a request we could not parse; None when it can't be
    answered (no Via to send it back along, or it was itself a response)."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", errors="replace")
    lines = head.split("\r\n")
    if not lines or lines[0].startswith("SIP/2.0"):
        return None
    found: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        key = COMPACT.get(name.strip().lower(), name.strip().lower())
        if sep and key in ("via", "from", "to", "call-id", "cseq"):
            found.setdefault(key, []).append(value.strip())
    if not found.get("via"):
        return None
    out = [f"SIP/2.0 {code} {reason}"] + [f"Via: {v}" for v in found["via"]]
    for key, name in (("from", "From"), ("to", "To"), ("call-id", "Call-ID"), ("cseq", "CSeq")):
        if found.get(key):
            out.append(f"{name}: {found[key][0]}")
    warning = [("Warning", f'399 omniroute "{_quoted(why)}"')] if why else []
    return _finish(out, warning, b"", None)


def _quoted(text: str) -> str:
    return "".join(c for c in text if c.isprintable() and c not in '"\\')[:200]


def _finish(lines: list[str], headers, body: bytes, content_type: str | None) -> bytes:
    lines = lines + [f"{k}: {v}" for k, v in headers] + [f"Server: {SERVER}"]
    if content_type and body:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# -- requests we send inside a dialog (REFER, BYE) --------------------------------

REMOTE_TAG = re.compile(r";\s*tag=([^;>\s]+)", re.IGNORECASE)


@dataclass
class Dialog:
    """A dialog, as we need it to send requests to the other side (RFC 3261 12)."""

    call_id: str
    local: str  # our From: the INVITE's To with our tag
    remote: str  # their To: the INVITE's From (with their tag)
    remote_target: str  # the caller's Contact URI
    local_contact: str
    cseq: int = 0
    # The proxies that Record-Routed, in the order our requests pass them (12.1.1: the
    # INVITE's order when we answered it; 12.1.2: reversed when we sent it).
    route_set: list[str] = field(default_factory=list)

    @classmethod
    def from_invite(cls, req: Request, local_tag: str, local_contact: str) -> Dialog:
        contacts = req.contact
        target = str(contacts[0].uri) if contacts else str(req.from_address.uri)
        return cls(call_id=req.call_id, local=f"{req.headers['To']};tag={local_tag}", remote=req.headers["From"],
                   remote_target=target, local_contact=local_contact, route_set=[str(a) for a in req.record_route])

    def routing(self) -> tuple[str, list[str]]:
        """The Request-URI and Route header values of a request in this dialog (12.2.1.1):
        a loose router (`lr`) is passed through by Route; a strict one takes the
        Request-URI and the remote target goes last in Route."""
        if not self.route_set:
            return self.remote_target, []
        first = Address.parse(self.route_set[0])
        if "lr" in first.uri.parameters:
            return self.remote_target, list(self.route_set)
        return str(dataclasses.replace(first.uri, parameters=Parameters())), [*self.route_set[1:], f"<{self.remote_target}>"]

    def next_hop(self) -> tuple[str, int, str] | None:
        """Where a request in this dialog goes first: (host, port, transport) of the first
        route (8.1.2), or None: straight to the remote target's sender."""
        if not self.route_set:
            return None
        uri = Address.parse(self.route_set[0]).uri
        return uri.host, uri.port or 5060, (uri.parameters.get("transport") or "udp").lower()

    @property
    def remote_tag(self) -> str | None:
        """The other side's tag: the caller's From tag, or the called party's To tag."""
        m = REMOTE_TAG.search(self.remote)
        return m[1] if m else None

    def request(self, method: str, via: str, *, headers: list[tuple[str, str]] = (),
                body: bytes = b"", content_type: str | None = None) -> tuple[bytes, str]:
        """Bytes of the next in-dialog request and its Via branch."""
        self.cseq += 1
        branch = new_branch()
        uri, routes = self.routing()
        lines = [f"{method} {uri} SIP/2.0", f"Via: {via};branch={branch};rport", "Max-Forwards: 70",
                 *[f"Route: {r}" for r in routes], f"From: {self.local}", f"To: {self.remote}",
                 f"Call-ID: {self.call_id}", f"CSeq: {self.cseq} {method}", f"Contact: <{self.local_contact}>"]
        return _finish(lines, headers, body, content_type), branch


def new_branch() -> str:
    return f"{MAGIC_COOKIE}-{uuid.uuid4().hex[:16]}"


def new_tag() -> str:
    return uuid.uuid4().hex[:12]


def branch_of(msg: Request | Response) -> str:
    return msg.via[0].parameters.get("branch") or ""


def tag_of(address: Address) -> str | None:
    return address.parameters.get("tag")


def parse_sipfrag(body: bytes) -> int:
    """Status code of a message/sipfrag NOTIFY body (RFC 3515), e.g. 'SIP/2.0 200 OK'."""
    first = body.decode("utf-8", errors="replace").strip().split("\r\n", 1)[0].split("\n", 1)[0]
    parts = first.split(" ", 2)
    if len(parts) < 2 or parts[0] != "SIP/2.0" or not parts[1].isdigit() or len(parts[1]) != 3:
        raise BadMessage(f"not a sipfrag status line: {first!r}")
    return int(parts[1])
