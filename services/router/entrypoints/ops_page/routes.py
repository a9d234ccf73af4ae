"""The ops page (static HTML/JS, no build step) and the post-contact survey page:
GET /survey/{contact_id}?t=<signed token> shows the form, POST records the answer as
a survey.submitted event on omniroute.contacts (once per contact)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from services.router.domain import commands as c
from services.router.domain.errors import RoutingError
from services.router.entrypoints.api.errors import status_of
from shared.survey import survey_domain

from ..pages import message_page

STATIC = Path(__file__).with_name("static")
ASSETS = {"ops.js": "text/javascript", "ops.css": "text/css"}

api = APIRouter(include_in_schema=False)


@api.get("/ops")
async def ops_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@api.get("/ops/{asset}")
async def ops_asset(asset: str) -> FileResponse:
    if asset not in ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such asset")
    return FileResponse(STATIC / asset, media_type=ASSETS[asset])


def _survey_bus(request: Request, token: str):
    """The bus of the domain the link names (verified there)."""
    return request.app.state.service.bus.within(survey_domain(token))


@api.get("/survey/{contact_id}", response_class=HTMLResponse)
async def survey_form(contact_id: str, request: Request, t: str = "") -> HTMLResponse:
    try:
        await _survey_bus(request, t).handle(c.CheckSurveyLink(contact_id, t))
    except RoutingError as exc:
        return message_page("Survey link not valid", f"<p>{html.escape(str(exc))}</p>", status_of(exc))
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
    return message_page("How did we do?", body)


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


@api.post("/survey/{contact_id}")
async def survey_submit(contact_id: str, request: Request):
    answer, wants_json = await _answer(request)
    token = str(answer.get("t", ""))
    await _survey_bus(request, token).handle(c.SubmitSurvey(
        contact_id, token, answer.get("score"), answer.get("comment", "") or "",
        bool(answer.get("complaint"))))
    if wants_json:
        return JSONResponse({"status": "recorded"}, status_code=status.HTTP_201_CREATED)
    return message_page("Thank you", "<p>Thank you for your feedback.</p>", status.HTTP_201_CREATED)
