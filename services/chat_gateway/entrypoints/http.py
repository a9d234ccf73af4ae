"""HTTP side: the widget page, the embed script and a customer's own transcript."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, field_validator

from shared.events import CHAT
from shared.transcripts import TranscriptEntry

from ..domain.chat import CLOSE_FORBIDDEN, TOPICS, ProtocolError, open_token
from ..handlers import deflection
from ..handlers.deps import ChatDeps

api = APIRouter()
STATIC = Path(__file__).with_name("static")
bearer = HTTPBearer(auto_error=False)
# The widget runs only its own script and talks only to its own origin; any site may frame it.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors *")


def deps_of(request: Request) -> ChatDeps:
    return request.app.state.service.deps


DepsDep = Annotated[ChatDeps, Depends(deps_of)]


@api.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/widget")


@api.get("/widget", include_in_schema=False)
async def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.html", headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})


@api.get("/embed.js", include_in_schema=False)
async def embed() -> FileResponse:
    return FileResponse(STATIC / "embed.js", media_type="text/javascript")


class Topic(BaseModel):
    id: str
    label: str
    open: bool = Field(description="Whether its queue is open now (hours of operation)")
    opens_at: datetime | None = Field(default=None, description="When closed: its next opening")
    schedule: str | None = Field(default=None, description="Its queue's schedule")
    hours: str | None = Field(default=None, description="Its queue's weekly hours, when it has a schedule")


@api.get("/v1/topics", tags=["chat"])
async def topics(deps: DepsDep) -> list[Topic]:
    """The widget's topics, each open or closed now by its queue's hours."""
    policy, now = deps.policy, datetime.now(UTC)
    return [Topic(id=key, label=label, **policy.hours_of(policy.queue_for(intent, CHAT), now))
            for key, (label, intent) in TOPICS.items()]


@api.get("/v1/conversations/{conversation_id}/transcript", tags=["chat"])
async def transcript(conversation_id: str, request: Request, deps: DepsDep,
                     creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> list[TranscriptEntry]:
    """The customer's own transcript; the bearer is the conversation token."""
    ip = request.client.host if request.client else "unknown"
    if not await deps.store.allow(f"connect:{ip}", deps.settings.chat_connect_rate_per_min):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "rate limited; try again in a minute",
                            headers={"Retry-After": "60"})
    if creds is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing conversation token",
                            headers={"WWW-Authenticate": "Bearer"})
    s = deps.settings
    try:
        open_token(s.chat_secret.get_secret_value(), creds.credentials, s.chat_token_max_age_s, conversation_id)
    except ProtocolError as exc:
        code = status.HTTP_403_FORBIDDEN if exc.code == CLOSE_FORBIDDEN else status.HTTP_401_UNAUTHORIZED
        raise HTTPException(code, exc.reason) from None
    return [TranscriptEntry.model_validate(m) for m in await deps.store.transcripts.read(conversation_id)]


class Question(BaseModel):
    topic: str = Field(description="The widget's topic (GET /v1/topics)")
    text: str = Field(min_length=1, max_length=2000, description="What the customer wants help with")

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, topic: str) -> str:
        if topic not in TOPICS:
            raise ValueError(f"unknown topic; choose one of {sorted(TOPICS)}")
        return topic


class ArticleView(BaseModel):
    id: str
    question: str
    answer: str
    url: str | None = None


class Suggestions(BaseModel):
    offer_id: str | None = Field(description="Names this offer for /solved; none when nothing matched")
    articles: list[ArticleView]


class Solved(BaseModel):
    article_id: str = Field(min_length=1, max_length=64)


async def _rate_limited(request: Request, deps: ChatDeps) -> None:
    ip = request.client.host if request.client else "unknown"
    if not await deps.store.allow(f"suggest:{ip}", deps.settings.chat_connect_rate_per_min):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "rate limited; try again in a minute",
                            headers={"Retry-After": "60"})


@api.post("/v1/suggestions", tags=["chat"])
async def suggestions(body: Question, request: Request, deps: DepsDep) -> Suggestions:
    """Self-service before a chat: the topic's articles that best match the question."""
    await _rate_limited(request, deps)
    return Suggestions.model_validate(await deflection.suggest(deps, body.topic, body.text))


@api.post("/v1/suggestions/{offer_id}/solved", tags=["chat"], status_code=status.HTTP_204_NO_CONTENT)
async def solved(offer_id: str, body: Solved, request: Request, deps: DepsDep) -> None:
    """"This solved it": the chat is not started, and the deflection is counted once."""
    await _rate_limited(request, deps)
    try:
        await deflection.solved(deps, offer_id, body.article_id)
    except deflection.NotOffered as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
