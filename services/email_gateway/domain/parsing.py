"""Parse an inbound email (stdlib `email`, policy.default) into what a contact needs:
addresses, threading headers, safe plain text, attachment metadata and MIME defects.

Pure: bytes in, dataclass out. Broken MIME is tolerated and reported in `defects`;
only mail that yields no usable message at all raises `Unparseable`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser

MAX_TEXT = 20_000  # MessagePosted.text limit
MSGID = re.compile(r"<[^<>\s]+>")


class Unparseable(ValueError):
    """The bytes are not an email we can read; the SMTP answer is 554 5.6.0."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    from_addr: str
    from_name: str
    to: list[str]
    subject: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # loop-protection headers, lower-case names
    truncated: bool = False


LOOP_HEADERS = ("auto-submitted", "precedence", "list-id", "list-unsubscribe", "x-auto-response-suppress",
                "return-path")


def parse(raw: bytes) -> ParsedEmail:
    try:
        msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
        return _read(msg)
    except Unparseable:
        raise
    except Exception as exc:  # the stdlib raises many types on hostile input
        raise Unparseable(f"message could not be parsed: {type(exc).__name__}") from exc


def _read(msg: EmailMessage) -> ParsedEmail:
    if not msg.keys():
        raise Unparseable("message has no headers")
    defects = [type(d).__name__ for d in msg.defects]
    from_name, from_addr = _first_address(msg, "from", defects)
    text, attachments, truncated = _body(msg, defects)
    own_id = _msgids(_header(msg, "message-id", defects))
    return ParsedEmail(
        message_id=own_id[0] if own_id else None,
        in_reply_to=_msgids(_header(msg, "in-reply-to", defects)),
        references=_msgids(_header(msg, "references", defects)),
        from_addr=from_addr,
        from_name=from_name,
        to=[a for _, a in getaddresses([_header(msg, "to", defects), _header(msg, "cc", defects)]) if a],
        subject=" ".join(_header(msg, "subject", defects).split())[:998],
        text=text,
        attachments=attachments,
        defects=sorted(set(defects)),
        headers={h: _header(msg, h, defects) for h in LOOP_HEADERS if msg.get(h) is not None},
        truncated=truncated,
    )


def _header(msg: EmailMessage, name: str, defects: list[str]) -> str:
    try:
        value = msg.get(name)
    except Exception as exc:  # a header the registry can't even build
        defects.append(f"BadHeader:{name}:{type(exc).__name__}")
        return ""
    if value is None:
        return ""
    defects.extend(f"{name}:{type(d).__name__}" for d in getattr(value, "defects", ()))
    return str(value)


def _first_address(msg: EmailMessage, name: str, defects: list[str]) -> tuple[str, str]:
    try:
        header = msg.get(name)
        addresses: tuple[Address, ...] = getattr(header, "addresses", ()) if header is not None else ()
    except Exception:
        addresses = ()
    for a in addresses:
        if a.addr_spec and "@" in a.addr_spec:
            return a.display_name or "", a.addr_spec.lower()
    raw = _header(msg, name, defects)
    pairs = [(n, a) for n, a in getaddresses([raw]) if "@" in a]
    return (pairs[0][0], pairs[0][1].lower()) if pairs else ("", "")


def _msgids(value: str) -> list[str]:
    return MSGID.findall(value or "")


def _body(msg: EmailMessage, defects: list[str]) -> tuple[str, list[Attachment], bool]:
    attachments = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment" or (
            part.get_filename() and part.get_content_maintype() not in ("text",)
        ):
            attachments.append(Attachment(part.get_filename() or "", part.get_content_type(), _size(part)))
    text = ""
    try:
        body = msg.get_body(preferencelist=("plain", "html"))
    except Exception:
        body = None
    if body is not None:
        content = _content(body, defects)
        text = html_to_text(content) if body.get_content_subtype() == "html" else content
    text = _tidy(text)
    return text[:MAX_TEXT], attachments, len(text) > MAX_TEXT


def _content(part: EmailMessage, defects: list[str]) -> str:
    try:
        content = part.get_content()
    except Exception as exc:  # unknown charset, bad base64...
        defects.append(f"BadContent:{type(exc).__name__}")
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else content.decode("utf-8", errors="replace")


def _size(part: EmailMessage) -> int:
    payload = part.get_payload(decode=True)
    return len(payload) if isinstance(payload, bytes) else 0


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _TextOnly(HTMLParser):
    """Keeps readable text, drops every tag, script and style: the result is plain text
    an agent desktop can show without risk."""

    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr"}
    HIDDEN = {"script", "style", "head", "title", "template", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCK:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.out.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(html: str) -> str:
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return _tidy("".join(parser.out).replace(" \n", "\n").replace("\n ", "\n"))
