"""The ops page (static HTML/JS, no build step) and the post-contact survey page:
GET /survey/{contact_id}?t=<signed token> shows the form, POST records the answer as
a survey.submitted event on omniroute.contacts (once per contact)."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import ValidationError

from shared.cloudevents import Envelope
from shared.events import SurveySubmitted, event_type
from shared.kafka import publish
from shared.survey import InvalidSurveyToken, verify

STATIC = Path(__file__).with_name("static")
ASSETS = {"ops.js": "text/javascript", "ops.css": "text/css"}
SOURCE = "omniroute/router"
SURVEY_PAGE = Template((STATIC / "survey.html").read_text())  # read once, filled per request

router = APIRouter(include_in_schema=False)


@router.get("/ops")
async def ops_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/ops/{asset}")
async def ops_asset(asset: str) -> FileResponse:
    if asset not in ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such asset")
    return FileResponse(STATIC / asset, media_type=ASSETS[asset])


def _page(title: str, body: str, code: int = 200) -> HTMLResponse:
    page = SURVEY_PAGE.substitute(title=html.escape(title), body=body)
    return HTMLResponse(page, status_code=code)


def _checked(request: Request, contact_id: str, token: str) -> None:
    ops = request.app.state.ops
    try:
        verify(ops.settings.survey_secret, token, contact_id, ops.settings.survey_max_age_s)
    except InvalidSurveyToken as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc


@router.get("/survey/{contact_id}", response_class=HTMLResponse)
async def survey_form(contact_id: str, request: Request, t: str = "") -> HTMLResponse:
    try:
        _checked(request, contact_id, t)
    except HTTPException as exc:
        return _page("Survey link not valid", f"<p>{html.escape(exc.detail)}</p>", exc.status_code)
    scores = "".join(
        f'<label class="score"><input type="radio" name="score" value="{n}" required> {n}</label>' for n in range(1, 6))
    body = f"""<form method="post">
  <input type="hidden" name="t" value="{html.escape(t)}">
  <fieldset><legend>How satisfied are you with the help you got? (1 = not at all, 5 = very)</legend>{scores}</fieldset>
  <label for="comment">Anything to add?</label>
  <textarea id="comment" name="comment" maxlength="2000" rows="4"></textarea>
  <label class="complaint"><input type="checkbox" name="complaint" value="1"> I want to make a complaint</label>
  <button type="submit">Send</button>
</form>"""
    return _page("How did we do?", body)


async def _answer(request: Request) -> tuple[dict, bool]:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(raw or b"{}")
        except ValueError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "body is not JSON") from exc
        if not isinstance(data, dict):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "body must be a JSON object")
        return data, True
    form = {k: v[-1] for k, v in parse_qs(raw.decode(errors="replace")).items()}
    form["complaint"] = form.get("complaint") in ("1", "on", "true")
    return form, False


@router.post("/survey/{contact_id}")
async def survey_submit(contact_id: str, request: Request):
    answer, wants_json = await _answer(request)
    _checked(request, contact_id, str(answer.get("t", "")))
    try:
        survey = SurveySubmitted(contact_id=contact_id, score=answer.get("score"),
                                 comment=answer.get("comment", "") or "", complaint=bool(answer.get("complaint")))
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) + ": " + e["msg"] for e in exc.errors())
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, fields) from exc
    ops = request.app.state.ops
    if not await ops.store.claim_survey(contact_id):
        raise HTTPException(status.HTTP_409_CONFLICT, "this survey was already answered")
    try:
        # A fixed event id: a retried publish is the same event, counted once. Stamped
        # with the router's clock, like every event the router's transitions emit.
        at = datetime.fromtimestamp(await ops.router.state.server_time_ms() / 1000, UTC)
        await publish(ops.router.producer, Envelope(id=f"survey-{contact_id}", source=SOURCE, key=contact_id,
                                                    type=event_type("survey.submitted"), data=survey, time=at))
    except Exception:
        await ops.store.release_survey(contact_id)
        raise
    if wants_json:
        return JSONResponse({"status": "recorded"}, status_code=status.HTTP_201_CREATED)
    return _page("Thank you", "<p>Thank you for your feedback.</p>", status.HTTP_201_CREATED)
