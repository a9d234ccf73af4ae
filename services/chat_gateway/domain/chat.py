"""Chat domain: the customer's WebSocket protocol, conversation tokens, queue position
and wait estimates. Pure: no I/O, so every rule here is unit-tested without a server."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from shared.events import Id

MAX_TEXT = 2000
MAX_FRAME_BYTES = 16_384

# Topic shown in the widget -> intent the routing policy maps to a queue.
TOPICS: dict[str, tuple[str, str]] = {
    "general": ("General question", "general"),
    "billing": ("Billing and payments", "billing"),
    "complaint": ("Something went wrong", "complaint"),
}

# WebSocket close codes (4000-4999 are the application's). The reason text says why.
CLOSE_BAD_FRAME = 4400
CLOSE_BAD_TOKEN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN = 4404
CLOSE_TIMEOUT = 4408
CLOSE_RATE_LIMITED = 4429
CLOSE_NORMAL = 1000

EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]


class ProtocolError(Exception):
    """Bad input from the customer's socket: closes it with `code` and `reason`."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason[:120]  # close reasons must fit in 123 bytes


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Start(Frame):
    type: Literal["start"]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] = ""
    customer_id: Id | None = None
    topic: str = "general"

    @model_validator(mode="after")
    def _who_and_what(self) -> Start:
        if not self.email and not self.customer_id:
            raise ValueError("give an email or a customer id")
        if self.email and not EMAIL.match(self.email):
            raise ValueError("email is not valid")
        if self.topic not in TOPICS:
            raise ValueError(f"unknown topic; choose one of {sorted(TOPICS)}")
        return self

    @property
    def intent(self) -> str:
        return TOPICS[self.topic][1]

    @property
    def customer_key(self) -> str:
        """The CRM id when given, else one derived from the email (same person, same id)."""
        return self.customer_id or f"email:{self.email.lower()}"


class Resume(Frame):
    type: Literal["resume"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    conversation_id: Id | None = None


class Say(Frame):
    type: Literal["message"]
    text: Text


class Leave(Frame):
    type: Literal["leave"]


class Ping(Frame):
    type: Literal["ping"]


class Survey(Frame):
    """The customer's answer to the post-chat survey; it is always for the socket's own contact."""

    type: Literal["survey"]
    score: Annotated[int, Field(strict=True, ge=1, le=5)]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)] = ""


ClientFrame = Annotated[Start | Resume | Say | Leave | Ping | Survey, Field(discriminator="type")]
_frames = TypeAdapter(ClientFrame)


def parse_frame(raw: str | bytes | None) -> Start | Resume | Say | Leave | Ping | Survey:
    if raw is None:
        raise ProtocolError(CLOSE_BAD_FRAME, "binary frames are not supported")
    if len(raw) > MAX_FRAME_BYTES:
        raise ProtocolError(CLOSE_BAD_FRAME, "frame too large")
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProtocolError(CLOSE_BAD_FRAME, "frame is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError(CLOSE_BAD_FRAME, "frame needs a string 'type'")
    try:
        return _frames.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"][1:]) or data["type"]
        raise ProtocolError(CLOSE_BAD_FRAME, f"{where}: {err['msg']}") from None


# -- conversation tokens --------------------------------------------------------
_SALT = "omniroute.chat.conversation"


def sign_conversation(secret: str, conversation_id: str) -> str:
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps(conversation_id)


def open_token(secret: str, token: str, max_age_s: int, conversation_id: str | None = None) -> str:
    """The conversation a token opens; refuses forged, expired or someone else's tokens."""
    try:
        opened = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=max_age_s)
    except SignatureExpired:
        raise ProtocolError(CLOSE_BAD_TOKEN, "conversation token expired") from None
    except BadSignature:
        raise ProtocolError(CLOSE_BAD_TOKEN, "conversation token is not valid") from None
    if conversation_id is not None and opened != conversation_id:
        raise ProtocolError(CLOSE_FORBIDDEN, "this token belongs to another conversation")
    return opened


# -- waiting --------------------------------------------------------------------
@dataclass(frozen=True)
class Pace:
    """How fast a queue answers chats: an average of the gaps between assignments."""

    last_ms: int = 0
    interval_ms: float = 0.0

    def after_assignment(self, now_ms: int, weight: float = 0.3, cap_ms: int = 600_000) -> Pace:
        if not self.last_ms:
            return Pace(now_ms, self.interval_ms)
        gap = min(max(now_ms - self.last_ms, 0), cap_ms)  # an idle night is not the pace
        interval = gap if not self.interval_ms else weight * gap + (1 - weight) * self.interval_ms
        return Pace(now_ms, interval)


def estimated_wait_s(position: int, pace: Pace, default_s: float) -> int:
    """Position times the queue's pace; the configured default until a chat was answered."""
    per_position = pace.interval_ms / 1000 if pace.interval_ms else default_s
    return max(0, round(position * per_position))


def window(now_s: float, period_s: int) -> int:
    """Fixed rate-limit window a moment falls in."""
    return int(now_s // period_s)
